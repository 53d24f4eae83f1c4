using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Testbed.Vm;

/// <summary>
/// Writes JSON in the VM's canonical form: no whitespace, object members sorted by ordinal (UTF-16 code unit) order
/// of their names, duplicate names rejected, strings re-escaped by a fixed rule (only '"', '\\' and U+0000..U+001F
/// are escaped; \b \f \n \r \t short forms, others \u00xx lowercase; everything else raw UTF-8), numbers kept as
/// their source text, literals true/false/null. The same value therefore has the same bytes on every peer and
/// platform, whatever the order or spacing of the source.
/// </summary>
internal static class CanonicalJsonWriter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void WriteObject(JsonElement element, IBufferWriter<byte> output, string what, string[] omit)
    {
        var members = new List<JsonProperty>();
        foreach (var property in element.EnumerateObject())
        {
            if (Array.IndexOf(omit, property.Name) < 0)
            {
                members.Add(property);
            }
        }

        members.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name));
        Write(output, "{"u8);
        for (var i = 0; i < members.Count; i++)
        {
            if (i > 0)
            {
                if (members[i].Name == members[i - 1].Name)
                {
                    throw new VmRejectedException($"'{what}' has the field '{members[i].Name}' twice");
                }

                Write(output, ","u8);
            }

            WriteString(output, members[i].Name, what);
            Write(output, ":"u8);
            WriteValue(members[i].Value, output, $"{what}.{members[i].Name}");
        }

        Write(output, "}"u8);
    }

    private static void WriteValue(JsonElement element, IBufferWriter<byte> output, string what)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, output, what, []);
                break;
            case JsonValueKind.Array:
                Write(output, "["u8);
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        Write(output, ","u8);
                    }

                    first = false;
                    WriteValue(item, output, what + "[]");
                }

                Write(output, "]"u8);
                break;
            case JsonValueKind.String:
                WriteString(output, VmObject.ReadString(element, what), what);
                break;
            case JsonValueKind.Number:
                WriteAscii(output, element.GetRawText());
                break;
            case JsonValueKind.True:
                Write(output, "true"u8);
                break;
            case JsonValueKind.False:
                Write(output, "false"u8);
                break;
            default:
                Write(output, "null"u8);
                break;
        }
    }

    /// <summary>Writes a JSON string literal by the canonical escaping rule; rejects lone surrogates.</summary>
    public static void WriteString(IBufferWriter<byte> output, string value, string what)
    {
        Write(output, "\""u8);
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c >= 0x20 && c != '"' && c != '\\')
            {
                continue;
            }

            WriteUtf8(output, value.AsSpan(start, i - start), what);
            start = i + 1;
            switch (c)
            {
                case '"': Write(output, "\\\""u8); break;
                case '\\': Write(output, "\\\\"u8); break;
                case '\b': Write(output, "\\b"u8); break;
                case '\f': Write(output, "\\f"u8); break;
                case '\n': Write(output, "\\n"u8); break;
                case '\r': Write(output, "\\r"u8); break;
                case '\t': Write(output, "\\t"u8); break;
                default:
                    Span<byte> escape = [(byte)'\\', (byte)'u', (byte)'0', (byte)'0', Hex(c >> 4), Hex(c & 0xF)];
                    Write(output, escape);
                    break;
            }
        }

        WriteUtf8(output, value.AsSpan(start), what);
        Write(output, "\""u8);
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static void WriteUtf8(IBufferWriter<byte> output, ReadOnlySpan<char> text, string what)
    {
        if (text.IsEmpty)
        {
            return;
        }

        int count;
        try
        {
            count = StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException)
        {
            throw new VmRejectedException($"'{what}' contains a lone surrogate (not valid Unicode text)");
        }

        var span = output.GetSpan(count);
        StrictUtf8.GetBytes(text, span);
        output.Advance(count);
    }

    private static void WriteAscii(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        var n = Encoding.ASCII.GetBytes(ascii, span);
        output.Advance(n);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }
}

/// <summary>A growing byte buffer that refuses to exceed a size limit, so an oversized value fails as soon as it is seen.</summary>
internal sealed class ArrayBufferWriterLimited(int limit, string what) : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[Math.Min(256, limit + 1)];
    private int _count;

    public void Advance(int count)
    {
        _count += count;
        if (_count > limit)
        {
            throw new VmRejectedException($"'{what}' is too large: more than {limit} bytes of canonical JSON");
        }
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_count);
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _count).ToArray();

    private void Ensure(int sizeHint)
    {
        var need = _count + Math.Max(sizeHint, 1);
        if (need > limit + 1 && need > _buffer.Length)
        {
            throw new VmRejectedException($"'{what}' is too large: more than {limit} bytes of canonical JSON");
        }

        if (need > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(need, Math.Min(_buffer.Length * 2, limit + 1)));
        }
    }
}
