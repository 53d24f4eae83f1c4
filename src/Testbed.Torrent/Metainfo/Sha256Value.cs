using System.Buffers.Binary;

namespace Testbed.Torrent.Metainfo;

/// <summary>32 bytes held as four integers, so the hash types built on it are copy-safe value types that compare by value.</summary>
internal readonly record struct Sha256Value
{
    public const int Length = 32;

    private readonly ulong a;
    private readonly ulong b;
    private readonly ulong c;
    private readonly ulong d;

    public Sha256Value(ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"{what} is {Length} bytes, got {bytes.Length}", nameof(bytes));
        }

        a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        c = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        d = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException($"destination needs {Length} bytes", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], d);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    public string ToHex() => Convert.ToHexStringLower(ToArray());

    public static bool TryParseHex(string? hex, out Sha256Value value)
    {
        value = default;
        if (hex is null || hex.Length != Length * 2)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Length)
        {
            return false;
        }

        value = new Sha256Value(bytes, "a SHA-256 value");
        return true;
    }
}
