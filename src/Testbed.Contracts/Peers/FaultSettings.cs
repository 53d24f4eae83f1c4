namespace Testbed.Contracts.Peers;

/// <summary>Settings of one fault (body of <c>POST /faults/{name}</c>).</summary>
public sealed record FaultSettings
{
    /// <summary>For corrupt-pieces and drop-announcements: the share affected, 0..1.</summary>
    public double Share { get; init; } = 1.0;

    /// <summary>For clock-skew: milliseconds added to the peer's clock (may be negative).</summary>
    public long SkewMs { get; init; }
}
