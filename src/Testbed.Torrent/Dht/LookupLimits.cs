namespace Testbed.Torrent.Dht;

/// <summary>The bounds of one iterative lookup of a <see cref="DhtNode"/> (it converges on <see cref="DhtNodeOptions.BucketSize"/> nodes).</summary>
public sealed record LookupLimits
{
    /// <summary>α: queries a lookup keeps in flight.</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>Most queries one lookup sends, whatever the network answers.</summary>
    public int MaxQueries { get; init; } = 64;

    /// <summary>Most peers one lookup collects.</summary>
    public int MaxPeers { get; init; } = 500;
}
