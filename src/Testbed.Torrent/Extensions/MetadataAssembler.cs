using System.Security.Cryptography;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Extensions;

/// <summary>
/// Collects the info dictionary piece by piece from peers (magnet links) and accepts it only if it hashes to the info hash:
/// its SHA-1, or for a v2 magnet (urn:btmh) its SHA-256 to the full v2 info hash.
/// </summary>
public sealed class MetadataAssembler
{
    private readonly InfoHash _infoHash;
    private readonly InfoHashV2? _infoHashV2;
    private byte[]? _buffer;
    private bool[] _received = [];
    private long[] _requestedAt = [];

    /// <summary>Creates an assembler for the torrent named by <paramref name="infoHash"/>.</summary>
    public MetadataAssembler(InfoHash infoHash) => _infoHash = infoHash;

    /// <summary>Creates an assembler that also accepts metadata whose SHA-256 is <paramref name="infoHashV2"/> (BEP 52).</summary>
    public MetadataAssembler(InfoHash infoHash, InfoHashV2? infoHashV2)
    {
        _infoHash = infoHash;
        _infoHashV2 = infoHashV2;
    }

    /// <summary>The size being assembled, once a peer told us.</summary>
    public int? Size => _buffer?.Length;

    /// <summary>Sets the size from a peer's handshake (first one wins; a wrong size simply fails the hash later).</summary>
    public void Offer(int size)
    {
        if (_buffer is null && size is > 0 and <= ExtensionHandshake.MaxMetadataSize)
        {
            _buffer = new byte[size];
            var pieces = (size + MetadataMessage.PieceSize - 1) / MetadataMessage.PieceSize;
            _received = new bool[pieces];
            _requestedAt = new long[pieces];
        }
    }

    /// <summary>The next piece to request (not received, not asked for within the last few seconds), or null.</summary>
    public int? NextRequest(long now)
    {
        for (var i = 0; i < _received.Length; i++)
        {
            if (!_received[i] && now - _requestedAt[i] > 5000)
            {
                _requestedAt[i] = now;
                return i;
            }
        }

        return null;
    }

    /// <summary>Stores a data piece. Returns the verified info dictionary bytes when the last piece makes it whole.</summary>
    public byte[]? Accept(MetadataMessage message)
    {
        if (_buffer is null || message.Data is null || message.TotalSize != _buffer.Length || message.Piece >= _received.Length)
        {
            return null;
        }

        var offset = message.Piece * MetadataMessage.PieceSize;
        var expected = Math.Min(MetadataMessage.PieceSize, _buffer.Length - offset);
        if (message.Data.Length != expected)
        {
            return null;
        }

        message.Data.CopyTo(_buffer, offset);
        _received[message.Piece] = true;
        if (_received.Any(r => !r))
        {
            return null;
        }

        if (new InfoHash(SHA1.HashData(_buffer)) == _infoHash || (_infoHashV2 is { } v2 && Metainfo.InfoHashV2.Compute(_buffer) == v2))
        {
            return _buffer;
        }

        // Someone sent a wrong piece: start over rather than keep bytes we cannot attribute.
        Array.Clear(_received);
        Array.Clear(_requestedAt);
        return null;
    }
}
