using System.Security.Cryptography;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Extensions;

/// <summary>
/// Collects the info dictionary piece by piece from peers (magnet links) and accepts it only if it hashes to the info hash:
/// its SHA-1, or for a v2 magnet (urn:btmh) its SHA-256 to the full v2 info hash.
/// </summary>
public sealed class MetadataAssembler
{
    private readonly InfoHash infoHash;
    private readonly InfoHashV2? infoHashV2;
    private byte[]? buffer;
    private bool[] received = [];
    private long[] requestedAt = [];

    /// <summary>Creates an assembler for the torrent named by <paramref name="infoHash"/>.</summary>
    public MetadataAssembler(InfoHash infoHash) => this.infoHash = infoHash;

    /// <summary>Creates an assembler that also accepts metadata whose SHA-256 is <paramref name="infoHashV2"/> (BEP 52).</summary>
    public MetadataAssembler(InfoHash infoHash, InfoHashV2? infoHashV2)
    {
        this.infoHash = infoHash;
        this.infoHashV2 = infoHashV2;
    }

    /// <summary>The size being assembled, once a peer told us.</summary>
    public int? Size => buffer?.Length;

    /// <summary>Sets the size from a peer's handshake (first one wins; a wrong size simply fails the hash later).</summary>
    public void Offer(int size)
    {
        if (buffer is null && size is > 0 and <= ExtensionHandshake.MaxMetadataSize)
        {
            buffer = new byte[size];
            var pieces = (size + MetadataMessage.PieceSize - 1) / MetadataMessage.PieceSize;
            received = new bool[pieces];
            requestedAt = new long[pieces];
        }
    }

    /// <summary>The next piece to request (not received, not asked for within the last few seconds), or null.</summary>
    public int? NextRequest(long now)
    {
        for (var i = 0; i < received.Length; i++)
        {
            if (!received[i] && now - requestedAt[i] > 5000)
            {
                requestedAt[i] = now;
                return i;
            }
        }

        return null;
    }

    /// <summary>Stores a data piece. Returns the verified info dictionary bytes when the last piece makes it whole.</summary>
    public byte[]? Accept(MetadataMessage message)
    {
        if (buffer is null || message.Data is null || message.TotalSize != buffer.Length || message.Piece >= received.Length)
        {
            return null;
        }

        var offset = message.Piece * MetadataMessage.PieceSize;
        var expected = Math.Min(MetadataMessage.PieceSize, buffer.Length - offset);
        if (message.Data.Length != expected)
        {
            return null;
        }

        message.Data.CopyTo(buffer, offset);
        received[message.Piece] = true;
        if (received.Any(r => !r))
        {
            return null;
        }

        if (new InfoHash(SHA1.HashData(buffer)) == infoHash || (infoHashV2 is { } v2 && Metainfo.InfoHashV2.Compute(buffer) == v2))
        {
            return buffer;
        }

        // Someone sent a wrong piece: start over rather than keep bytes we cannot attribute.
        Array.Clear(received);
        Array.Clear(requestedAt);
        return null;
    }
}
