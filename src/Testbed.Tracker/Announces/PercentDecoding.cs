namespace Testbed.Tracker.Announces;

/// <summary>
/// Decodes URL query values to raw bytes. A `+` stays the byte 0x2B: binary info hashes and peer
/// ids routinely contain it, and a form-style "+ means space" reading would corrupt them.
/// </summary>
public static class PercentDecoding
{
    /// <summary>
    /// Decodes <paramref name="value"/> into <paramref name="destination"/>; false when a `%` is not
    /// followed by two hex digits, a character is outside one byte, or the result does not fit.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> value, Span<byte> destination, out int written)
    {
        written = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (written == destination.Length)
            {
                return false;
            }

            var ch = value[i];
            if (ch == '%')
            {
                if (i + 2 >= value.Length)
                {
                    return false;
                }

                var high = HexValue(value[i + 1]);
                var low = HexValue(value[i + 2]);
                if (high < 0 || low < 0)
                {
                    return false;
                }

                destination[written++] = (byte)((high << 4) | low);
                i += 2;
            }
            else if (ch <= 0xFF)
            {
                destination[written++] = (byte)ch;
            }
            else
            {
                return false;
            }
        }

        return true;
    }

    private static int HexValue(char ch) => ch switch
    {
        >= '0' and <= '9' => ch - '0',
        >= 'a' and <= 'f' => ch - 'a' + 10,
        >= 'A' and <= 'F' => ch - 'A' + 10,
        _ => -1,
    };
}
