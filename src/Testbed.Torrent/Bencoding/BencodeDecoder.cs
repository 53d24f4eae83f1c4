namespace Testbed.Torrent.Bencoding;

/// <summary>
/// Strict bencode decoder: canonical integers only (no leading zeros, no -0), dictionary keys
/// sorted and unique, no trailing bytes, and every depth, length, count and size bounded.
/// </summary>
public static class BencodeDecoder
{
    /// <summary>Decodes exactly one value that spans the whole input. The input is copied, so the caller may reuse its buffer.</summary>
    public static BencodeValue Decode(ReadOnlySpan<byte> input, BencodeLimits? limits = null) =>
        Decode((ReadOnlyMemory<byte>)input.ToArray(), limits);

    /// <summary>
    /// Decodes exactly one value that spans the whole input. Strings and <see cref="BencodeValue.Raw"/>
    /// are slices of <paramref name="input"/> (no copy), so the caller must not change it afterwards.
    /// </summary>
    public static BencodeValue Decode(ReadOnlyMemory<byte> input, BencodeLimits? limits = null)
    {
        var value = DecodePrefix(input, out var consumed, limits);
        if (consumed != input.Length)
        {
            throw new BencodeException($"{input.Length - consumed} unexpected trailing byte(s) after the value", consumed);
        }

        return value;
    }

    /// <summary>
    /// Decodes one value at the start of the input and reports how many bytes it used; bytes after
    /// it are left alone (a BEP 9 metadata message carries raw data after its dictionary).
    /// </summary>
    public static BencodeValue DecodePrefix(ReadOnlyMemory<byte> input, out int consumed, BencodeLimits? limits = null)
    {
        var reader = new Reader(input, limits ?? BencodeLimits.Default);
        var value = reader.ReadValue(depth: 0);
        consumed = reader.Position;
        return value;
    }

    /// <summary>Decodes a value that must be a dictionary.</summary>
    public static BencodeDictionary DecodeDictionary(ReadOnlyMemory<byte> input, BencodeLimits? limits = null) =>
        Decode(input, limits) as BencodeDictionary ?? throw new BencodeException("top-level value is not a dictionary", 0);

    private sealed class Reader
    {
        private readonly ReadOnlyMemory<byte> _input;
        private readonly BencodeLimits _limits;
        private int _elements;

        public Reader(ReadOnlyMemory<byte> input, BencodeLimits limits)
        {
            if (input.Length > limits.MaxTotalSize)
            {
                throw new BencodeException($"input of {input.Length} bytes exceeds the limit of {limits.MaxTotalSize}", 0);
            }

            _input = input;
            _limits = limits;
        }

        public int Position { get; private set; }

        public BencodeValue ReadValue(int depth)
        {
            var span = _input.Span;
            if (Position >= span.Length)
            {
                throw new BencodeException("unexpected end of input, expected a value", Position);
            }

            if (++_elements > _limits.MaxElements)
            {
                throw new BencodeException($"more than {_limits.MaxElements} elements", Position);
            }

            var start = Position;
            BencodeValue value = span[Position] switch
            {
                (byte)'i' => ReadInteger(),
                (byte)'l' => ReadList(depth + 1),
                (byte)'d' => ReadDictionary(depth + 1),
                >= (byte)'0' and <= (byte)'9' => ReadString(),
                var other => throw new BencodeException($"unexpected byte 0x{other:x2} where a value should start", Position),
            };
            value.SourceOffset = start;
            value.Raw = _input[start..Position];
            return value;
        }

        private BencodeInteger ReadInteger()
        {
            var span = _input.Span;
            var start = Position;
            Position++; // 'i'
            var negative = false;
            if (Position < span.Length && span[Position] == (byte)'-')
            {
                negative = true;
                Position++;
            }

            var digitsStart = Position;
            ulong magnitude = 0;
            while (Position < span.Length && span[Position] is >= (byte)'0' and <= (byte)'9')
            {
                var digit = (ulong)(span[Position] - '0');
                if (magnitude > (ulong.MaxValue - digit) / 10)
                {
                    throw new BencodeException("integer does not fit in 64 bits", start);
                }

                magnitude = (magnitude * 10) + digit;
                Position++;
            }

            var digits = Position - digitsStart;
            if (Position >= span.Length)
            {
                throw new BencodeException("unexpected end of input inside an integer", Position);
            }

            if (span[Position] != (byte)'e')
            {
                throw new BencodeException($"unexpected byte 0x{span[Position]:x2} inside an integer", Position);
            }

            if (digits == 0)
            {
                throw new BencodeException("integer has no digits", start);
            }

            if (digits > 1 && span[digitsStart] == (byte)'0')
            {
                throw new BencodeException("integer has a leading zero", start);
            }

            if (negative && magnitude == 0)
            {
                throw new BencodeException("negative zero is not a canonical integer", start);
            }

            Position++; // 'e'
            if (negative)
            {
                return magnitude > (ulong)long.MaxValue + 1
                    ? throw new BencodeException("integer does not fit in 64 bits", start)
                    : new BencodeInteger(unchecked(-(long)magnitude));
            }

            return magnitude > long.MaxValue
                ? throw new BencodeException("integer does not fit in 64 bits", start)
                : new BencodeInteger((long)magnitude);
        }

        private BencodeString ReadString()
        {
            var span = _input.Span;
            var start = Position;
            long length = 0;
            while (Position < span.Length && span[Position] is >= (byte)'0' and <= (byte)'9')
            {
                length = (length * 10) + (span[Position] - '0');
                if (length > _limits.MaxStringLength)
                {
                    throw new BencodeException($"string length exceeds the limit of {_limits.MaxStringLength} bytes", start);
                }

                Position++;
            }

            if (Position >= span.Length)
            {
                throw new BencodeException("unexpected end of input inside a string length", Position);
            }

            if (span[Position] != (byte)':')
            {
                throw new BencodeException($"unexpected byte 0x{span[Position]:x2} in a string length, expected ':'", Position);
            }

            if (Position - start > 1 && span[start] == (byte)'0')
            {
                throw new BencodeException("string length has a leading zero", start);
            }

            Position++; // ':'
            if (length > span.Length - Position)
            {
                throw new BencodeException($"string of {length} bytes runs past the end of input ({span.Length - Position} left)", start);
            }

            var bytes = _input.Slice(Position, (int)length);
            Position += (int)length;
            return new BencodeString(bytes);
        }

        private BencodeList ReadList(int depth)
        {
            CheckDepth(depth);
            Position++; // 'l'
            var list = new BencodeList();
            while (true)
            {
                if (Position >= _input.Length)
                {
                    throw new BencodeException("unexpected end of input inside a list", Position);
                }

                if (_input.Span[Position] == (byte)'e')
                {
                    Position++;
                    return list;
                }

                list.Add(ReadValue(depth));
            }
        }

        private BencodeDictionary ReadDictionary(int depth)
        {
            CheckDepth(depth);
            Position++; // 'd'
            var dictionary = new BencodeDictionary();
            BencodeString? previous = null;
            while (true)
            {
                if (Position >= _input.Length)
                {
                    throw new BencodeException("unexpected end of input inside a dictionary", Position);
                }

                var next = _input.Span[Position];
                if (next == (byte)'e')
                {
                    Position++;
                    return dictionary;
                }

                if (next is < (byte)'0' or > (byte)'9')
                {
                    throw new BencodeException("dictionary key is not a byte string", Position);
                }

                var keyOffset = Position;
                var key = (BencodeString)ReadValue(depth);
                if (previous is not null)
                {
                    var order = previous.CompareTo(key);
                    if (order == 0)
                    {
                        throw new BencodeException($"duplicate dictionary key '{key}'", keyOffset);
                    }

                    if (order > 0)
                    {
                        throw new BencodeException($"dictionary key '{key}' is out of order (after '{previous}')", keyOffset);
                    }
                }

                if (Position >= _input.Length)
                {
                    throw new BencodeException($"unexpected end of input, dictionary key '{key}' has no value", Position);
                }

                dictionary.AddDecoded(key, ReadValue(depth));
                previous = key;
            }
        }

        private void CheckDepth(int depth)
        {
            if (depth > _limits.MaxDepth)
            {
                throw new BencodeException($"nesting deeper than {_limits.MaxDepth}", Position);
            }
        }
    }
}
