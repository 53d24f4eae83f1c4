namespace Testbed.AppHost.AppModel;

/// <summary>A named endpoint a resource listens on: HTTP endpoints go into ASPNETCORE_URLS, others into their own variable.</summary>
/// <param name="Name">Endpoint name, the third part of <c>services__{resource}__{endpoint}__{index}</c>.</param>
/// <param name="Scheme">URL scheme handed to referencing resources (http, udp, tcp).</param>
/// <param name="Port">Fixed port, or null to allocate a free loopback port (kept across restarts).</param>
/// <param name="EnvironmentVariable">For non-HTTP endpoints: the variable that tells the service its address (HOST:PORT).</param>
public sealed record EndpointDefinition(string Name, string Scheme, int? Port, string? EnvironmentVariable)
{
    /// <summary>True for endpoints Kestrel serves (they go into ASPNETCORE_URLS).</summary>
    public bool IsHttp => Scheme is "http" or "https";

    /// <summary>True when the port must be free for UDP rather than TCP.</summary>
    public bool IsUdp => Scheme == "udp";
}
