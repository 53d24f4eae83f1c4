using Testbed.Chaos.Proxy;

namespace Testbed.Chaos.Execution;

/// <summary>What a run drives: the control API, the peers' APIs and (for network faults) the proxy with its address plan.</summary>
/// <param name="Control">The AppHost's control API.</param>
/// <param name="Peers">Peer API client; peer URLs come from the control API's resource list.</param>
/// <param name="Proxy">The fault proxy on the peer-to-peer paths, or null when the peers talk directly (network steps then fail, saying so).</param>
/// <param name="Plan">The loopback plan the peers bind to (peer-N binds <see cref="LoopbackPlan.PrivateAddress"/>(N)).</param>
public sealed record ScenarioEnvironment(ControlApiClient Control, PeerApiClient Peers, FaultProxy? Proxy, LoopbackPlan? Plan)
{
    /// <summary>How often every peer's /status is recorded.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a process command may take to reach its state (start: running and healthy).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Per-request timeout of /status polls.</summary>
    public TimeSpan StatusTimeout { get; init; } = TimeSpan.FromSeconds(3);
}
