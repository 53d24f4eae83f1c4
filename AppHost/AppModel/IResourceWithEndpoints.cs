namespace Testbed.AppHost.AppModel;

/// <summary>A named resource other resources can reference: its endpoints become their <c>services__...</c> variables.</summary>
public interface IResourceWithEndpoints
{
    /// <summary>Resource name, the second part of <c>services__{resource}__{endpoint}__{index}</c>.</summary>
    string Name { get; }

    /// <summary>The endpoints the resource listens on.</summary>
    IReadOnlyList<EndpointDefinition> Endpoints { get; }
}
