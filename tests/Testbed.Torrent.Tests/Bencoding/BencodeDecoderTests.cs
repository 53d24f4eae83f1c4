using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Tests.Bencoding;

public sealed class BencodeDecoderTests
{
    private static BencodeValue Decode(string text, BencodeLimits? limits = null) =>
        BencodeDecoder.Decode(Encoding.Latin1.GetBytes(text), limits);

    private static BencodeException Reject(string text, BencodeLimits? limits = null) =>
        Assert.Throws<BencodeException>(() => Decode(text, limits));

    [Theory]
    [InlineData("i0e", 0L)]
    [InlineData("i42e", 42L)]
    [InlineData("i-42e", -42L)]
    [InlineData("i9223372036854775807e", long.MaxValue)]
    [InlineData("i-9223372036854775808e", long.MinValue)]
    public void Decodes_canonical_integers(string text, long expected) =>
        Assert.Equal(expected, Assert.IsType<BencodeInteger>(Decode(text)).Value);

    [Theory]
    [InlineData("i03e", "leading zero", 0)]
    [InlineData("i-0e", "negative zero", 0)]
    [InlineData("i-03e", "leading zero", 0)]
    [InlineData("ie", "no digits", 0)]
    [InlineData("i-e", "no digits", 0)]
    [InlineData("i12", "end of input", 3)]
    [InlineData("i1x2e", "0x78", 2)]
    [InlineData("i9223372036854775808e", "64 bits", 0)]
    [InlineData("i99999999999999999999999e", "64 bits", 0)]
    public void Rejects_non_canonical_or_broken_integers(string text, string problem, long offset)
    {
        var error = Reject(text);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void Decodes_strings_as_bytes_including_non_utf8()
    {
        var input = new byte[] { (byte)'3', (byte)':', 0xff, 0x00, 0x80 };
        var value = Assert.IsType<BencodeString>(BencodeDecoder.Decode(input));
        Assert.Equal(new byte[] { 0xff, 0x00, 0x80 }, value.Bytes.ToArray());
    }

    [Fact]
    public void Decodes_empty_string() => Assert.Equal(0, Assert.IsType<BencodeString>(Decode("0:")).Length);

    [Theory]
    [InlineData("05:hello", "leading zero")]
    [InlineData("5:hell", "runs past the end")]
    [InlineData("5hello", "expected ':'")]
    [InlineData("5", "end of input")]
    public void Rejects_broken_strings(string text, string problem) =>
        Assert.Contains(problem, Reject(text).Message, StringComparison.Ordinal);

    [Fact]
    public void Decodes_nested_structures()
    {
        var value = Assert.IsType<BencodeDictionary>(Decode("d4:listli1e3:twoe3:numi7e4:subdd1:ai1eee"));
        Assert.Equal(7, value.GetInteger("num"));
        var list = value.Require<BencodeList>("list");
        Assert.Equal(2, list.Count);
        Assert.Equal("two", ((BencodeString)list[1]).Text);
        Assert.Equal(1, value.Require<BencodeDictionary>("subd").GetInteger("a"));
    }

    [Fact]
    public void Rejects_unsorted_keys_naming_key_and_offset()
    {
        var error = Reject("d1:bi1e1:ai2ee");
        Assert.Contains("'a' is out of order", error.Message, StringComparison.Ordinal);
        Assert.Equal(7, error.Offset);
    }

    [Fact]
    public void Rejects_duplicate_keys() => Assert.Contains("duplicate dictionary key 'a'", Reject("d1:ai1e1:ai2ee").Message, StringComparison.Ordinal);

    [Fact]
    public void Keys_are_ordered_by_raw_bytes_not_text()
    {
        // 'Z' (0x5a) sorts before 'a' (0x61) in raw byte order.
        Assert.IsType<BencodeDictionary>(Decode("d1:Zi1e1:ai2ee"));
        Reject("d1:ai2e1:Zi1ee");
    }

    [Theory]
    [InlineData("di1ei2ee", "key is not a byte string")]
    [InlineData("d1:a", "has no value")]
    [InlineData("d1:ai1e", "inside a dictionary")]
    [InlineData("li1e", "inside a list")]
    [InlineData("", "expected a value")]
    [InlineData("x", "0x78")]
    [InlineData("i1ei2e", "trailing")]
    public void Rejects_structural_errors(string text, string problem) =>
        Assert.Contains(problem, Reject(text).Message, StringComparison.Ordinal);

    [Fact]
    public void Bounds_depth()
    {
        var limits = BencodeLimits.Default with { MaxDepth = 3 };
        Assert.IsType<BencodeList>(Decode("llleee", limits));
        Assert.Contains("nesting deeper than 3", Reject("lllleeee", limits).Message, StringComparison.Ordinal);
        // Very deep input from the network must fail cleanly, never overflow the stack.
        var deep = new string('l', 100_000) + new string('e', 100_000);
        Assert.Contains("nesting", Reject(deep).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bounds_string_length_before_reading()
    {
        var limits = BencodeLimits.Default with { MaxStringLength = 4 };
        Assert.IsType<BencodeString>(Decode("4:spam", limits));
        Assert.Contains("exceeds the limit of 4", Reject("5:spams", limits).Message, StringComparison.Ordinal);
        Assert.Contains("exceeds the limit", Reject("99999999999999999999:x").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bounds_element_count_and_total_size()
    {
        Assert.Contains("more than 3 elements", Reject("li1ei2ei3ee", BencodeLimits.Default with { MaxElements = 3 }).Message, StringComparison.Ordinal);
        Assert.Contains("exceeds the limit of 5", Reject("4:spam", BencodeLimits.Default with { MaxTotalSize = 5 }).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keeps_the_raw_bytes_of_nested_values()
    {
        var text = "d4:infod6:lengthi1e4:name1:xe3:zzzi0ee";
        var dictionary = (BencodeDictionary)Decode(text);
        var info = dictionary.Require<BencodeDictionary>("info");
        Assert.Equal("d6:lengthi1e4:name1:xe", Encoding.Latin1.GetString(info.Raw.Span));
        Assert.Equal(7, info.SourceOffset);
    }

    [Fact]
    public void Decode_prefix_reports_consumed_bytes_and_leaves_the_rest()
    {
        var bytes = Encoding.Latin1.GetBytes("d1:ai1eeRAWDATA");
        var value = BencodeDecoder.DecodePrefix(bytes, out var consumed);
        Assert.Equal(8, consumed);
        Assert.Equal(1, ((BencodeDictionary)value).GetInteger("a"));
    }

    [Fact]
    public void Wrong_type_lookup_names_the_key()
    {
        var dictionary = (BencodeDictionary)Decode("d1:a3:xyze");
        var error = Assert.Throws<BencodeException>(() => dictionary.Get<BencodeInteger>("a"));
        Assert.Contains("key 'a' holds a byte string, expected an integer", error.Message, StringComparison.Ordinal);
        Assert.Contains("required key 'b' is missing", Assert.Throws<BencodeException>(() => dictionary.Require<BencodeList>("b")).Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public bool Random_bytes_never_crash_the_decoder(byte[] input)
    {
        try
        {
            var value = BencodeDecoder.Decode(input);
            // Whatever strict decoding accepts must re-encode to the exact input.
            return value.Encode().AsSpan().SequenceEqual(input);
        }
        catch (BencodeException)
        {
            return true;
        }
    }

    [Property(MaxTest = 200)]
    public bool Mutated_valid_documents_fail_cleanly_or_round_trip(int seed)
    {
        var random = new Random(seed);
        var bytes = Encoding.Latin1.GetBytes("d8:announce9:http://x/4:infod6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee");
        bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        try
        {
            return BencodeDecoder.Decode(bytes).Encode().AsSpan().SequenceEqual(bytes);
        }
        catch (BencodeException)
        {
            return true;
        }
    }

    internal static Arbitrary<BencodeValue> Values() => Arb.From(ValueGen(3));

    private static Gen<BencodeValue> ValueGen(int depth)
    {
        var integer = ArbMap.Default.GeneratorFor<long>().Select(v => (BencodeValue)new BencodeInteger(v));
        var text = ArbMap.Default.GeneratorFor<byte[]>().Select(v => (BencodeValue)new BencodeString(v));
        if (depth == 0)
        {
            return Gen.OneOf(integer, text);
        }

        var list = ValueGen(depth - 1).ListOf().Select(items => (BencodeValue)new BencodeList(items));
        var dictionary = Gen.Zip(ArbMap.Default.GeneratorFor<string>().Where(s => s is not null), ValueGen(depth - 1)).ListOf().Select(pairs =>
        {
            var result = new BencodeDictionary();
            foreach (var (key, value) in pairs)
            {
                result[key] = value;
            }

            return (BencodeValue)result;
        });
        return Gen.OneOf(integer, text, list, dictionary);
    }
}
