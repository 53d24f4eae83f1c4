using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Testbed.Tracker.Swarms;

/// <summary>An IPv4 or IPv6 address held inline; IPv4-mapped IPv6 addresses are folded to IPv4 so a dual-stack socket sees one peer, not two.</summary>
public readonly struct PeerAddress : IEquatable<PeerAddress>
{
    private readonly ulong _high;
    private readonly ulong _low;

    private PeerAddress(ulong high, ulong low, bool isV4)
    {
        _high = high;
        _low = low;
        IsV4 = isV4;
    }

    /// <summary>Whether this is an IPv4 address (4 bytes in compact form) rather than IPv6 (16 bytes).</summary>
    public bool IsV4 { get; }

    /// <summary>Bytes in compact form: 4 for IPv4, 16 for IPv6.</summary>
    public int CompactLength => IsV4 ? 4 : 16;

    /// <summary>An IPv4 address from its 4 network-order bytes.</summary>
    public static PeerAddress FromV4(ReadOnlySpan<byte> bytes) => new(0, BinaryPrimitives.ReadUInt32BigEndian(bytes), isV4: true);

    /// <summary>An address from 16 network-order IPv6 bytes, folding IPv4-mapped ones to IPv4.</summary>
    public static PeerAddress FromV6(ReadOnlySpan<byte> bytes)
    {
        var high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        var low = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        // ::ffff:a.b.c.d is an IPv4 peer reaching a dual-stack socket.
        if (high == 0 && (low >> 32) == 0xFFFF)
        {
            return new PeerAddress(0, low & 0xFFFF_FFFF, isV4: true);
        }

        return new PeerAddress(high, low, isV4: false);
    }

    /// <summary>From an <see cref="IPAddress"/>.</summary>
    public static PeerAddress From(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException("address does not fit 16 bytes", nameof(address));
        }

        return address.AddressFamily == AddressFamily.InterNetwork ? FromV4(bytes[..written]) : FromV6(bytes[..written]);
    }

    /// <summary>Writes the compact form (4 or 16 bytes) and returns its length.</summary>
    public int WriteCompact(Span<byte> destination)
    {
        if (IsV4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)_low);
            return 4;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
        return 16;
    }

    /// <summary>As an <see cref="IPAddress"/> (allocates; not for hot paths).</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        var length = WriteCompact(bytes);
        return new IPAddress(bytes[..length]);
    }

    /// <inheritdoc />
    public bool Equals(PeerAddress other) => _high == other._high && _low == other._low && IsV4 == other.IsV4;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PeerAddress other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_high, _low, IsV4);

    /// <inheritdoc />
    public override string ToString() => ToIPAddress().ToString();

    /// <summary>Equality.</summary>
    public static bool operator ==(PeerAddress left, PeerAddress right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(PeerAddress left, PeerAddress right) => !left.Equals(right);
}
