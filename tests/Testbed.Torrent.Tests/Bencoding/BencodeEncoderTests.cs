using System.Text;
using FsCheck.Xunit;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Tests.Bencoding;

public sealed class BencodeEncoderTests
{
    private static string EncodeText(BencodeValue value) => Encoding.Latin1.GetString(value.Encode());

    [Fact]
    public void Encodes_each_kind()
    {
        Assert.Equal("i-7e", EncodeText(-7L));
        Assert.Equal("i0e", EncodeText(0L));
        Assert.Equal("4:spam", EncodeText("spam"));
        Assert.Equal("0:", EncodeText(Array.Empty<byte>()));
        Assert.Equal("l4:spami1ee", EncodeText(new BencodeList { "spam", 1L }));
    }

    [Fact]
    public void Sorts_dictionary_keys_by_raw_bytes()
    {
        var dictionary = new BencodeDictionary { ["b"] = 1L, ["a"] = 2L, ["Z"] = 3L, ["ab"] = 4L };
        Assert.Equal("d1:Zi3e1:ai2e2:abi4e1:bi1ee", EncodeText(dictionary));
    }

    [Fact]
    public void Add_rejects_duplicate_keys()
    {
        var dictionary = new BencodeDictionary { { "a", 1L } };
        Assert.Throws<ArgumentException>(() => dictionary.Add("a", 2L));
    }

    [Fact]
    public void Multibyte_text_lengths_count_bytes()
    {
        Assert.Equal(Encoding.UTF8.GetBytes("4:\u00e9\u00e9"), new BencodeString("\u00e9\u00e9").Encode());
    }

    [Property(Arbitrary = [typeof(BencodeArbitraries)], MaxTest = 200)]
    public bool Encode_then_decode_round_trips(BencodeValue value)
    {
        var bytes = value.Encode();
        var decoded = BencodeDecoder.Decode(bytes);
        return decoded.Encode().AsSpan().SequenceEqual(bytes) && decoded.Raw.Span.SequenceEqual(bytes);
    }
}

/// <summary>FsCheck generators for bencode values.</summary>
public static class BencodeArbitraries
{
    /// <summary>Random nested values up to depth 3.</summary>
    public static FsCheck.Arbitrary<BencodeValue> Values() => BencodeDecoderTests.Values();
}
