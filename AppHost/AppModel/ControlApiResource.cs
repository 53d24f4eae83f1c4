namespace Testbed.AppHost.AppModel;

/// <summary>The AppHost's own control API as a resource, so the dashboard and chaos controller can <c>WithReference</c> it.</summary>
public sealed class ControlApiResource : IResourceWithEndpoints
{
    /// <summary>The name services see it under: <c>services__apphost__http__0</c>.</summary>
    public const string ResourceName = "apphost";

    /// <inheritdoc />
    public string Name => ResourceName;

    /// <inheritdoc />
    public IReadOnlyList<EndpointDefinition> Endpoints { get; } = [new EndpointDefinition("http", "http", null, null)];
}
