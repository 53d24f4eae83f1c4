using System.Buffers;
using System.Text;
using System.Runtime.InteropServices;
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
        // Each name is decoded once (JsonProperty.Name allocates on every call), then sorted.
        var members = new (string Name, JsonElement Value)[element.GetPropertyCount()];
        var count = 0;
        foreach (var property in element.EnumerateObject())
        {
            var name = ReadName(property, what);
            if (omit.Length == 0 || Array.IndexOf(omit, name) < 0)
            {
                members[count++] = (name, property.Value);
            }
        }

        var sorted = members.AsSpan(0, count);
        sorted.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name));
        Write(output, "{"u8);
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0)
            {
                if (sorted[i].Name == sorted[i - 1].Name)
                {
                    throw new VmRejectedException($"'{what}' has the field '{sorted[i].Name}' twice");
                }

                Write(output, ","u8);
            }

            WriteString(output, sorted[i].Name, what);
            Write(output, ":"u8);
            WriteValue(sorted[i].Value, output, what, sorted[i].Name);
        }

        Write(output, "}"u8);
    }

    /// <summary>Writes one member value; its path (what.member) is only built for nested containers and errors.</summary>
    private static void WriteValue(JsonElement element, IBufferWriter<byte> output, string what, string member)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, output, $"{what}.{member}", []);
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
                    WriteValue(item, output, what, member + "[]");
                }

                Write(output, "]"u8);
                break;
            case JsonValueKind.String:
                WriteStringValue(element, output, what, member);
                break;
            case JsonValueKind.Number:
                Write(output, JsonMarshal.GetRawUtf8Value(element));
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

    /// <summary>
    /// A source string without escapes is already canonical (JSON forbids raw '"', '\\' and control characters in it,
    /// and the parser checked its UTF-8), so its raw bytes are copied; one with escapes is decoded and re-escaped.
    /// </summary>
    private static void WriteStringValue(JsonElement element, IBufferWriter<byte> output, string what, string member)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (raw.IndexOf((byte)'\\') < 0)
        {
            Write(output, raw);
            return;
        }

        var path = $"{what}.{member}";
        WriteString(output, VmObject.ReadString(element, path), path);
    }

    private static string ReadName(JsonProperty property, string what)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw new VmRejectedException($"a field name in '{what}' contains a lone surrogate (not valid Unicode text)");
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

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }
}

/// <summary>A growing, reusable byte buffer that refuses to exceed a size limit, so an oversized value fails as soon as it is seen.</summary>
internal sealed class ArrayBufferWriterLimited : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[1024];
    private int _count;
    private int _limit;
    private string _what = "";

    public void Reset(int limit, string what)
    {
        _count = 0;
        _limit = limit;
        _what = what;
    }

    public void Advance(int count)
    {
        _count += count;
        if (_count > _limit)
        {
            throw TooLarge();
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
        if (need <= _buffer.Length)
        {
            return;
        }

        if (need > _limit + 1)
        {
            throw TooLarge();
        }

        Array.Resize(ref _buffer, Math.Max(need, Math.Min(_buffer.Length * 2, _limit + 1)));
    }

    private VmRejectedException TooLarge() => new($"'{_what}' is too large: more than {_limit} bytes of canonical JSON");
}
