using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Testbed.Torrent.Messages;

namespace Testbed.Torrent.PeerWire;

/// <summary>The 68-byte BEP 3 handshake: protocol string, reserved bits, info hash and peer id.</summary>
public sealed record Handshake(byte[] Reserved, byte[] InfoHash, byte[] PeerId)
{
    /// <summary>Total length on the wire.</summary>
    public const int Length = 68;

    /// <summary>Bytes up to and including the info hash: enough for a listener to pick the torrent.</summary>
    public const int PrefixLength = 48;

    private static readonly byte[] Protocol = Encoding.ASCII.GetBytes("BitTorrent protocol");

    /// <summary>True when the sender supports the BEP 10 extension protocol (reserved byte 5, bit 0x10).</summary>
    public bool SupportsExtensions => (Reserved[5] & 0x10) != 0;

    /// <summary>True when the sender supports the BEP 6 fast extension (reserved byte 7, bit 0x04).</summary>
    public bool SupportsFast => (Reserved[7] & 0x04) != 0;

    /// <summary>
    /// True when the sender speaks BEP 52's v2 wire protocol (reserved byte 7, bit 0x10): it has the torrent's
    /// merkle trees and answers hash requests, and for a hybrid it can join the v2 swarm too.
    /// </summary>
    public bool SupportsV2 => (Reserved[7] & 0x10) != 0;

    /// <summary>Our handshake: extension protocol and fast extension advertised, and the v2 bit for a v2 or hybrid torrent.</summary>
    public static Handshake Create(ReadOnlySpan<byte> infoHash, ReadOnlySpan<byte> peerId, bool v2 = false)
    {
        var reserved = new byte[8];
        reserved[5] |= 0x10;
        reserved[7] |= 0x04;
        if (v2)
        {
            reserved[7] |= 0x10;
        }

        return new Handshake(reserved, infoHash.ToArray(), peerId.ToArray());
    }

    /// <summary>Reads exactly the <see cref="Length"/> handshake bytes from a fresh connection; a close before that is a protocol error.</summary>
    public static async Task<byte[]> ReceiveBytesAsync(Socket socket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var buffer = new byte[Length];
        var read = 0;
        while (read < Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new PeerProtocolException($"connection closed after {read} of {Length} handshake bytes");
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>A fresh Azureus-style peer id (-TB0100- plus 12 random bytes).</summary>
    public static byte[] NewPeerId()
    {
        var id = new byte[20];
        Encoding.ASCII.GetBytes("-TB0100-", id);
        RandomNumberGenerator.Fill(id.AsSpan(8));
        return id;
    }

    /// <summary>Writes the handshake into a 68-byte destination.</summary>
    public void WriteTo(Span<byte> destination)
    {
        destination[0] = (byte)Protocol.Length;
        Protocol.CopyTo(destination[1..]);
        Reserved.CopyTo(destination[20..]);
        InfoHash.CopyTo(destination[28..]);
        PeerId.CopyTo(destination[48..]);
    }

    /// <summary>The encoded handshake.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Checks the protocol string of a handshake prefix and returns the info hash it names.</summary>
    public static byte[] ReadInfoHash(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length < PrefixLength || prefix[0] != Protocol.Length || !prefix.Slice(1, Protocol.Length).SequenceEqual(Protocol))
        {
            throw new PeerProtocolException("the handshake does not start with \"\\x13BitTorrent protocol\"");
        }

        return prefix.Slice(28, 20).ToArray();
    }

    /// <summary>Parses a complete 68-byte handshake.</summary>
    public static Handshake Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new PeerProtocolException($"a handshake is {Length} bytes, got {bytes.Length}");
        }

        var infoHash = ReadInfoHash(bytes);
        return new Handshake(bytes.Slice(20, 8).ToArray(), infoHash, bytes.Slice(48, 20).ToArray());
    }
}
