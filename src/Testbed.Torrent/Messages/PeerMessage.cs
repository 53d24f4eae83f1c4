using System.Buffers;

namespace Testbed.Torrent.Messages;

/// <summary>A decoded peer wire message (everything after the handshake).</summary>
public abstract record PeerMessage;

/// <summary>A zero-length message that only keeps the connection alive.</summary>
public sealed record KeepAliveMessage : PeerMessage
{
    /// <summary>The single instance; the message carries nothing.</summary>
    public static readonly KeepAliveMessage Instance = new();
}

/// <summary>A message made of its identifier only (choke, unchoke, interested, not interested, have all, have none).</summary>
public sealed record StateMessage(MessageId Id) : PeerMessage
{
    /// <summary>Choke.</summary>
    public static readonly StateMessage Choke = new(MessageId.Choke);

    /// <summary>Unchoke.</summary>
    public static readonly StateMessage Unchoke = new(MessageId.Unchoke);

    /// <summary>Interested.</summary>
    public static readonly StateMessage Interested = new(MessageId.Interested);

    /// <summary>Not interested.</summary>
    public static readonly StateMessage NotInterested = new(MessageId.NotInterested);

    /// <summary>Have all (BEP 6).</summary>
    public static readonly StateMessage HaveAll = new(MessageId.HaveAll);

    /// <summary>Have none (BEP 6).</summary>
    public static readonly StateMessage HaveNone = new(MessageId.HaveNone);
}

/// <summary>A message carrying one piece index (have, suggest piece, allowed fast).</summary>
public sealed record PieceIndexMessage(MessageId Id, int Piece) : PeerMessage;

/// <summary>The sender's bitfield, raw (most significant bit of byte 0 is piece 0).</summary>
public sealed record BitfieldMessage(byte[] Bits) : PeerMessage;

/// <summary>A message carrying a block triple (request, cancel, reject request).</summary>
public sealed record BlockMessage(MessageId Id, BlockRequest Block) : PeerMessage;

/// <summary>A block of data. <see cref="Data"/> is only valid until the reader advances; copy it out synchronously.</summary>
public sealed record PieceMessage(int Piece, int Begin, ReadOnlySequence<byte> Data) : PeerMessage;

/// <summary>The DHT port message; we run no DHT, so it is read and ignored.</summary>
public sealed record PortMessage(ushort Port) : PeerMessage;

/// <summary>A BEP 10 extended message: extended id 0 is the extension handshake.</summary>
public sealed record ExtendedMessage(byte ExtendedId, byte[] Payload) : PeerMessage;

/// <summary>
/// Which hashes of a file's merkle tree a BEP 52 hash request, hashes or hash reject message names: the file's pieces root,
/// the layer (0 = the 16 KiB block hashes), the first index and count in that layer, and how many layers of proof above it.
/// </summary>
public readonly record struct HashRange(Metainfo.PiecesRoot PiecesRoot, int BaseLayer, int Index, int Length, int ProofLayers)
{
    /// <summary>Bytes of the range on the wire: root and four 32-bit integers.</summary>
    public const int WireLength = Metainfo.PiecesRoot.Length + 16;

    /// <summary>Most hashes one request may ask for (BEP 52 says at most 512 should be asked; libtorrent accepts up to 8192).</summary>
    public const int MaxLength = 8192;

    /// <summary>Most proof layers one request may ask for: a tree of 2^63 leaves is far beyond any file.</summary>
    public const int MaxProofLayers = 64;

    /// <summary>Highest layer one request may name (the same bound as the proof).</summary>
    public const int MaxBaseLayer = 63;
}

/// <summary>A BEP 52 hash request (21) or hash reject (23): the range asked for, or refused.</summary>
public sealed record HashRangeMessage(MessageId Id, HashRange Range) : PeerMessage;

/// <summary>
/// A BEP 52 hashes message (22): the requested base hashes, then the uncle hashes nearest first, 32 bytes each; the uncles
/// number <see cref="Metainfo.MerkleTree.UncleCount"/> (the first log2(length) - 1 proof layers are inside the range).
/// </summary>
public sealed record HashesMessage(HashRange Range, byte[] Hashes) : PeerMessage;

/// <summary>A message with an identifier we do not know, skipped as BEP 3 asks.</summary>
public sealed record UnknownMessage(byte Id, int Length) : PeerMessage;
