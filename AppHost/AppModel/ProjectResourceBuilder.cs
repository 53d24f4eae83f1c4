namespace Testbed.AppHost.AppModel;

/// <summary>Fluent configuration of a <see cref="ProjectResource"/>, named after Aspire's resource builder extensions.</summary>
public sealed class ProjectResourceBuilder
{
    internal ProjectResourceBuilder(ProjectResource resource) => Resource = resource;

    /// <summary>The resource being configured.</summary>
    public ProjectResource Resource { get; }

    /// <summary>Runs <paramref name="replicas"/> processes named <c>{name}-1</c>..; 0 runs none.</summary>
    public ProjectResourceBuilder WithReplicas(int replicas)
    {
        AppHostOptions.Check(replicas is >= 0 and <= 64, $"Replicas of '{Resource.Name}' must be between 0 and 64, not {replicas}.");
        Resource.Replicas = replicas;
        return this;
    }

    /// <summary>Hands the referenced resource's endpoints down as <c>services__{name}__{endpoint}__{index}</c>.</summary>
    public ProjectResourceBuilder WithReference(ProjectResourceBuilder source) => WithReference(source.Resource);

    /// <summary>Hands the referenced resource's endpoints down as <c>services__{name}__{endpoint}__{index}</c>.</summary>
    public ProjectResourceBuilder WithReference(IResourceWithEndpoints source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Resource.AddReference(source);
        return this;
    }

    /// <summary>Starts this resource only once every replica of <paramref name="dependency"/> is running and healthy.</summary>
    public ProjectResourceBuilder WaitFor(ProjectResourceBuilder dependency)
    {
        ArgumentNullException.ThrowIfNull(dependency);
        Resource.AddWaitFor(dependency.Resource);
        return this;
    }

    /// <summary>Probes GET <paramref name="path"/> on the "http" endpoint; 2xx means healthy.</summary>
    public ProjectResourceBuilder WithHttpHealthCheck(string path = "/health")
    {
        AppHostOptions.Check(path.StartsWith('/'), $"Health check path of '{Resource.Name}' must start with '/', not '{path}'.");
        AppHostOptions.Check(Resource.Endpoints.Any(endpoint => endpoint.Name == "http"), $"'{Resource.Name}' has no \"http\" endpoint to probe.");
        Resource.HealthCheckPath = path;
        return this;
    }

    /// <summary>Adds an HTTP endpoint (served by Kestrel through ASPNETCORE_URLS); <paramref name="port"/> null allocates one.</summary>
    public ProjectResourceBuilder WithHttpEndpoint(string name = "http", int? port = null)
    {
        Resource.AddEndpoint(new EndpointDefinition(name, "http", port, null));
        return this;
    }

    /// <summary>Adds a non-HTTP endpoint; the service learns its address (127.0.0.1:PORT) from <paramref name="environmentVariable"/>.</summary>
    public ProjectResourceBuilder WithEndpoint(string name, string scheme, string environmentVariable, int? port = null)
    {
        AppHostOptions.Check(scheme is "udp" or "tcp", $"Scheme of endpoint '{name}' of '{Resource.Name}' must be udp or tcp (HTTP: WithHttpEndpoint), not '{scheme}'.");
        Resource.AddEndpoint(new EndpointDefinition(name, scheme, port, environmentVariable));
        return this;
    }

    /// <summary>Sets an environment variable of every replica.</summary>
    public ProjectResourceBuilder WithEnvironment(string name, string value)
    {
        Resource.SetEnvironment(name, value);
        return this;
    }

    /// <summary>Appends command-line arguments after the dll.</summary>
    public ProjectResourceBuilder WithArgs(params string[] args)
    {
        Resource.AddArgs(args);
        return this;
    }
}
