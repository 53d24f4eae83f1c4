namespace Testbed.Chaos.Proxy;

/// <summary>A fault on the data flowing one way over a link (from one named node to another), as Toxiproxy's toxics.</summary>
public abstract record LinkToxic
{
    /// <summary>The toxic's kind as scenarios.yaml names it (latency, bandwidth, stall, reset, slicer, limit_data).</summary>
    public abstract string Kind { get; }
}

/// <summary>Delays every chunk by <see cref="Latency"/> plus a uniform random jitter in [-Jitter, +Jitter]; order is kept.</summary>
public sealed record LatencyToxic(TimeSpan Latency, TimeSpan Jitter) : LinkToxic
{
    /// <inheritdoc />
    public override string Kind => "latency";
}

/// <summary>Limits the link to <see cref="BytesPerSecond"/>.</summary>
public sealed record BandwidthToxic(long BytesPerSecond) : LinkToxic
{
    /// <inheritdoc />
    public override string Kind => "bandwidth";
}

/// <summary>Stops all data (Toxiproxy's timeout); after <see cref="CloseAfter"/> the connection is closed, null keeps it open until the toxic goes.</summary>
public sealed record StallToxic(TimeSpan? CloseAfter) : LinkToxic
{
    /// <inheritdoc />
    public override string Kind => "stall";
}

/// <summary>Resets (TCP RST) every connection of the link <see cref="After"/> it was established or the toxic was added.</summary>
public sealed record ResetToxic(TimeSpan After) : LinkToxic
{
    /// <inheritdoc />
    public override string Kind => "reset";
}

/// <summary>Slices data into writes of about <see cref="AverageSize"/> ± <see cref="SizeVariation"/> bytes, <see cref="Delay"/> apart.</summary>
public sealed record SlicerToxic(int AverageSize, int SizeVariation, TimeSpan Delay) : LinkToxic
{
    /// <inheritdoc />
    public override string Kind => "slicer";
}

/// <summary>Closes the connection once <see cref="Bytes"/> bytes went through in this direction.</summary>
public sealed record LimitDataToxic(long Bytes) : LinkToxic
{
    /// <inheritdoc />
    public override string Kind => "limit_data";
}

/// <summary>One direction of a link between two named nodes.</summary>
public readonly record struct LinkDirection(string From, string To)
{
    /// <inheritdoc />
    public override string ToString() => $"{From}->{To}";
}

/// <summary>What applies to one direction of a link right now.</summary>
public sealed record LinkState(bool Blocked, IReadOnlyList<LinkToxic> Toxics)
{
    /// <summary>A link with no fault.</summary>
    public static LinkState Clear { get; } = new(false, []);

    /// <summary>The first toxic of type <typeparamref name="T"/>, if any.</summary>
    public T? Find<T>() where T : LinkToxic => Toxics.OfType<T>().FirstOrDefault();
}
