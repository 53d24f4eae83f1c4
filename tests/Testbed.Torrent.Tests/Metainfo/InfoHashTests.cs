using System.Security.Cryptography;
using System.Text;
using FsCheck.Xunit;

namespace Testbed.Torrent.Tests.Metainfo;

public sealed class InfoHashTests
{
    [Fact]
    public void Compute_is_sha1_of_the_bytes()
    {
        var bytes = Encoding.ASCII.GetBytes("d4:name1:xe");
        Assert.Equal(SHA1.HashData(bytes), InfoHash.Compute(bytes).ToArray());
    }

    [Fact]
    public void Hex_round_trips_in_lowercase_and_accepts_uppercase()
    {
        var hash = InfoHash.ParseHex("0123456789ABCDEF0123456789abcdef01234567");
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", hash.ToHex());
        Assert.Equal(hash, InfoHash.ParseHex(hash.ToHex()));
        Assert.False(InfoHash.TryParseHex("0123", out _));
        Assert.False(InfoHash.TryParseHex("zz23456789abcdef0123456789abcdef01234567", out _));
    }

    [Fact]
    public void Url_encoding_keeps_unreserved_bytes_and_escapes_the_rest()
    {
        var bytes = new byte[20];
        bytes[0] = (byte)'a';
        bytes[1] = (byte)'~';
        bytes[2] = 0xff;
        bytes[3] = (byte)' ';
        bytes[4] = (byte)'%';
        var encoded = new InfoHash(bytes).ToUrlEncoded();
        Assert.StartsWith("a~%FF%20%25%00", encoded, StringComparison.Ordinal);
        Assert.Equal(bytes, PercentEncoding.Decode(encoded));
    }

    [Fact]
    public void Base32_matches_rfc4648()
    {
        // RFC 4648 test vector "foobar" -> MZXW6YTBOI, extended to 20 bytes with zeros.
        var bytes = new byte[20];
        Encoding.ASCII.GetBytes("foobar").CopyTo(bytes, 0);
        var hash = new InfoHash(bytes);
        Assert.StartsWith("MZXW6YTBOI", hash.ToBase32(), StringComparison.Ordinal);
        Assert.Equal(hash, InfoHash.ParseBase32(hash.ToBase32().ToLowerInvariant()));
        Assert.False(InfoHash.TryParseBase32("MZXW6YTBOI", out _));
        Assert.False(InfoHash.TryParseBase32(new string('1', 32), out _));
    }

    [Property(MaxTest = 200)]
    public bool Base32_and_hex_round_trip(byte[] seed)
    {
        var hash = InfoHash.Compute(seed);
        return InfoHash.ParseBase32(hash.ToBase32()) == hash && InfoHash.ParseHex(hash.ToHex()) == hash && new InfoHash(hash.ToArray()) == hash;
    }

    [Fact]
    public void Rejects_wrong_length() => Assert.Throws<ArgumentException>(() => new InfoHash(new byte[19]));
}
