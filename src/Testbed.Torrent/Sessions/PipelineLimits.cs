namespace Testbed.Torrent.Sessions;

/// <summary>Bounds of the adaptive request pipeline: how many block requests are kept in flight to one peer.</summary>
public sealed record PipelineLimits
{
    /// <summary>Requests in flight to one peer when a connection starts, and the least the pipeline adapts down to.</summary>
    public int InitialDepth { get; init; } = 64;

    /// <summary>Upper bound of the adaptive pipeline.</summary>
    public int MaxDepth { get; init; } = 400;

    /// <summary>The pipeline holds this many seconds of a peer's measured rate.</summary>
    public double Seconds { get; init; } = 1.0;
}
