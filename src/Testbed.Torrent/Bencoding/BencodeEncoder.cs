using System.Buffers;
using System.Buffers.Text;

namespace Testbed.Torrent.Bencoding;

/// <summary>Canonical bencode encoder: integers in shortest form, dictionary keys in raw byte order.</summary>
public static class BencodeEncoder
{
    /// <summary>Encodes a value to a new array.</summary>
    public static byte[] Encode(BencodeValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Encode(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a value into a buffer writer.</summary>
    public static void Encode(BencodeValue value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(output);
        switch (value)
        {
            case BencodeInteger integer:
                WriteByte(output, (byte)'i');
                WriteNumber(output, integer.Value);
                WriteByte(output, (byte)'e');
                break;
            case BencodeString text:
                WriteString(output, text.Bytes.Span);
                break;
            case BencodeList list:
                WriteByte(output, (byte)'l');
                foreach (var item in list)
                {
                    Encode(item, output);
                }

                WriteByte(output, (byte)'e');
                break;
            case BencodeDictionary dictionary:
                WriteByte(output, (byte)'d');
                foreach (var (key, item) in dictionary)
                {
                    WriteString(output, key.Bytes.Span);
                    Encode(item, output);
                }

                WriteByte(output, (byte)'e');
                break;
            default:
                throw new ArgumentException($"unknown bencode value type {value.GetType().Name}", nameof(value));
        }
    }

    internal static string KindOf(BencodeValue value) => value switch
    {
        BencodeInteger => "an integer",
        BencodeString => "a byte string",
        BencodeList => "a list",
        BencodeDictionary => "a dictionary",
        _ => value.GetType().Name,
    };

    private static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteNumber(output, bytes.Length);
        WriteByte(output, (byte)':');
        output.Write(bytes);
    }

    private static void WriteNumber(IBufferWriter<byte> output, long number)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(number, span, out var written);
        output.Advance(written);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }
}
