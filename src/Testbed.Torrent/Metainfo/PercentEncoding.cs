using System.Text;

namespace Testbed.Torrent.Metainfo;

/// <summary>URL percent-encoding of binary values (info hashes, peer ids) as trackers expect: unreserved bytes kept, all others %XX.</summary>
public static class PercentEncoding
{
    /// <summary>Encodes bytes; only RFC 3986 unreserved characters are left as they are.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(HexDigit(b >> 4)).Append(HexDigit(b & 0xf));
            }
        }

        return text.ToString();
    }

    /// <summary>Decodes %XX escapes (and '+' as space when <paramref name="plusIsSpace"/>) to bytes; a broken escape throws.</summary>
    public static byte[] Decode(string text, bool plusIsSpace = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !Uri.IsHexDigit(text[i + 1]) || !Uri.IsHexDigit(text[i + 2]))
                {
                    throw new FormatException($"broken percent escape at position {i} in '{text}'");
                }

                output.Add((byte)((Uri.FromHex(text[i + 1]) << 4) | Uri.FromHex(text[i + 2])));
                i += 2;
            }
            else if (c == '+' && plusIsSpace)
            {
                output.Add((byte)' ');
            }
            else if (c < 0x80)
            {
                output.Add((byte)c);
            }
            else
            {
                output.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return [.. output];
    }

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'A' + value - 10);
}
