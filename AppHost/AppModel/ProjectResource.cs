using System.Text.RegularExpressions;

namespace Testbed.AppHost.AppModel;

/// <summary>A .NET project run as one or more processes (replicas), in the shape of Aspire's ProjectResource.</summary>
public sealed partial class ProjectResource : IResourceWithEndpoints
{
    private readonly List<EndpointDefinition> _endpoints = [];
    private readonly List<IResourceWithEndpoints> _references = [];
    private readonly List<ProjectResource> _waitFor = [];
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);
    private readonly List<string> _args = [];

    internal ProjectResource(string name, string projectFile)
    {
        Name = name;
        ProjectFile = projectFile;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Absolute path of the .csproj.</summary>
    public string ProjectFile { get; }

    /// <summary>Number of processes; each gets its own name (<c>peer-1</c>..) and ports. 1 keeps the plain name.</summary>
    public int Replicas { get; internal set; } = 1;

    /// <summary>Path probed over the "http" endpoint; null means the resource is healthy once its process runs.</summary>
    public string? HealthCheckPath { get; internal set; }

    /// <inheritdoc />
    public IReadOnlyList<EndpointDefinition> Endpoints => _endpoints;

    /// <summary>Resources whose endpoints are handed down as <c>services__...</c> variables.</summary>
    public IReadOnlyList<IResourceWithEndpoints> References => _references;

    /// <summary>Resources that must be running and healthy before this one starts.</summary>
    public IReadOnlyList<ProjectResource> WaitForResources => _waitFor;

    /// <summary>Extra environment variables, set last (they win over the AppHost's).</summary>
    public IReadOnlyDictionary<string, string> Environment => _environment;

    /// <summary>Command-line arguments after the dll.</summary>
    public IReadOnlyList<string> Args => _args;

    /// <summary>Names of the processes this resource runs.</summary>
    public IReadOnlyList<string> InstanceNames => Replicas == 1
        ? [Name]
        : Enumerable.Range(1, Replicas).Select(index => $"{Name}-{index}").ToArray();

    internal void AddEndpoint(EndpointDefinition endpoint)
    {
        AppHostOptions.Check(IsValidName(endpoint.Name), $"Endpoint name '{endpoint.Name}' of '{Name}' must be lowercase letters, digits and hyphens.");
        AppHostOptions.Check(endpoint.Port is null or (> 0 and <= 65535), $"Endpoint '{endpoint.Name}' of '{Name}' has port {endpoint.Port}, not 1..65535.");
        AppHostOptions.Check(endpoint.IsHttp || !string.IsNullOrWhiteSpace(endpoint.EnvironmentVariable),
            $"Endpoint '{endpoint.Name}' of '{Name}' is not HTTP, so it needs the environment variable that tells the service its address.");
        AppHostOptions.Check(_endpoints.TrueForAll(existing => existing.Name != endpoint.Name), $"'{Name}' already has an endpoint named '{endpoint.Name}'.");
        _endpoints.Add(endpoint);
    }

    internal void AddReference(IResourceWithEndpoints resource)
    {
        AppHostOptions.Check(!ReferenceEquals(resource, this), $"'{Name}' cannot reference itself.");
        if (!_references.Contains(resource))
        {
            _references.Add(resource);
        }
    }

    internal void AddWaitFor(ProjectResource resource)
    {
        AppHostOptions.Check(!ReferenceEquals(resource, this), $"'{Name}' cannot wait for itself.");
        if (!_waitFor.Contains(resource))
        {
            _waitFor.Add(resource);
        }
    }

    internal void SetEnvironment(string name, string value)
    {
        AppHostOptions.Check(!string.IsNullOrWhiteSpace(name) && !name.Contains('=', StringComparison.Ordinal), $"'{name}' is not an environment variable name.");
        _environment[name] = value;
    }

    internal void AddArgs(IEnumerable<string> args) => _args.AddRange(args);

    /// <summary>Aspire's rule for resource names: a letter, then lowercase letters, digits and single hyphens.</summary>
    internal static bool IsValidName(string name) => name.Length <= 64 && NamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z](?:-?[a-z0-9])*$")]
    private static partial Regex NamePattern();
}
