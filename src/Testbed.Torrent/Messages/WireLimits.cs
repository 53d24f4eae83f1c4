namespace Testbed.Torrent.Messages;

/// <summary>The bounds a decoder enforces on one connection; every length read from the network is checked against them.</summary>
/// <param name="PieceCount">Pieces in the torrent, or null while the metadata is unknown (magnet).</param>
/// <param name="MaxExtendedLength">Largest BEP 10 message accepted (ut_metadata carries 16 KiB pieces plus a small dictionary).</param>
public sealed record WireLimits(int? PieceCount, int MaxExtendedLength = WireLimits.DefaultMaxExtendedLength)
{
    /// <summary>Default bound of an extended message.</summary>
    public const int DefaultMaxExtendedLength = 64 * 1024;

    /// <summary>Bound of a bitfield while the piece count is unknown (2^20 pieces).</summary>
    public const int MaxUnknownBitfieldBytes = 1 << 17;

    /// <summary>The largest piece message: id, index, begin and one standard block.</summary>
    public const int MaxPieceMessageLength = 9 + BlockRequest.StandardLength;

    /// <summary>The largest BEP 52 hashes message: id, range, and the most base hashes plus one uncle per proof layer.</summary>
    public const int MaxHashesMessageLength = 1 + HashRange.WireLength + ((HashRange.MaxLength + HashRange.MaxProofLayers) * Metainfo.MerkleTree.HashSize);

    /// <summary>Length of the bitfield payload for <see cref="PieceCount"/> pieces.</summary>
    public int? BitfieldBytes => PieceCount is { } n ? (n + 7) / 8 : null;

    /// <summary>The largest message length (after the 4-byte prefix) any message may announce.</summary>
    public int MaxMessageLength =>
        Math.Max(Math.Max(Math.Max(MaxPieceMessageLength, 1 + (BitfieldBytes ?? MaxUnknownBitfieldBytes)), 2 + MaxExtendedLength), MaxHashesMessageLength);
}
