namespace Testbed.Torrent.Bencoding;

/// <summary>Bounds the decoder enforces so hostile input cannot exhaust memory or stack.</summary>
/// <param name="MaxDepth">Deepest nesting of lists and dictionaries.</param>
/// <param name="MaxStringLength">Longest byte string, in bytes.</param>
/// <param name="MaxElements">Most values (of any kind, nested included) in one document.</param>
/// <param name="MaxTotalSize">Largest input, in bytes.</param>
public sealed record BencodeLimits(int MaxDepth, int MaxStringLength, int MaxElements, int MaxTotalSize)
{
    /// <summary>Defaults large enough for any realistic .torrent (pieces of a ~1 TB torrent) and small enough to be safe.</summary>
    public static BencodeLimits Default { get; } = new(MaxDepth: 64, MaxStringLength: 32 << 20, MaxElements: 1_000_000, MaxTotalSize: 64 << 20);

    /// <summary>Tight bounds for small network messages (tracker responses, extension messages).</summary>
    public static BencodeLimits Message { get; } = new(MaxDepth: 16, MaxStringLength: 1 << 20, MaxElements: 50_000, MaxTotalSize: 2 << 20);
}
