using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Testbed.Vm;

/// <summary>Big-endian writer for the VM's state and effects files.</summary>
internal sealed class BinaryWriterBE
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);

    public void U8(byte value) => _buffer.Write([value]);

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void I64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void Raw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        U32((uint)bytes.Length);
        _buffer.Write(bytes);
    }

    public void String(string value) => Bytes(Encoding.UTF8.GetBytes(value));

    public void Entry(StateEntry entry)
    {
        Bytes(entry.Value.CanonicalJson);
        I64(entry.Counter);
        String(entry.Owner);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}

/// <summary>Bounds-checked big-endian reader: every length and count is checked against what is left, so a corrupt file fails with a clear error.</summary>
internal ref struct BinaryReaderBE(ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _at;

    public readonly int Remaining => _data.Length - _at;

    public byte U8() => Take(1)[0];

    public uint U32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public long I64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public ReadOnlySpan<byte> Raw(int count) => Take(count);

    public byte[] Bytes(int max)
    {
        var length = U32();
        if (length > (uint)max)
        {
            throw new InvalidDataException($"{what}: a field of {length} bytes exceeds the limit of {max}");
        }

        return Take((int)length).ToArray();
    }

    public string String(int max) => Encoding.UTF8.GetString(Bytes(max));

    /// <summary>Reads a count, refusing one that could not fit in the bytes left (each item takes at least <paramref name="minItemBytes"/>).</summary>
    public int Count(int minItemBytes)
    {
        var count = U32();
        if (count > (uint)(Remaining / Math.Max(1, minItemBytes)))
        {
            throw new InvalidDataException($"{what}: count {count} exceeds what the remaining {Remaining} bytes can hold");
        }

        return (int)count;
    }

    public StateEntry Entry()
    {
        var json = Bytes(1 << 20);
        var counter = I64();
        var owner = String(1 << 10);
        return new StateEntry(VmObject.FromCanonical(json), counter, owner);
    }

    public readonly void End()
    {
        if (Remaining != 0)
        {
            throw new InvalidDataException($"{what}: {Remaining} unexpected trailing bytes");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new InvalidDataException($"{what}: truncated (needed {count} more bytes at offset {_at}, {Remaining} left)");
        }

        var span = _data.Slice(_at, count);
        _at += count;
        return span;
    }
}
