using FsCheck.Xunit;
using Testbed.Bytes;

namespace Testbed.Torrent.Tests.Shared;

/// <summary>The one fixed-size bytes value under the hash and id types (src/Shared/FixedBytes.cs), tested on its own.</summary>
public sealed class FixedBytesTests
{
    private const string Hex20 = "0123456789abcdef0123456789abcdef01234567";

    [Fact]
    public void Hex_round_trips_in_lowercase()
    {
        var id = FixedBytes<Bytes20>.ParseHex<Id20>(Hex20.ToUpperInvariant(), HexCase.Either, "an id");
        Assert.Equal(Hex20, id.Value.ToHex());
        Assert.Equal(Hex20, id.Value.ToString());
        Assert.Equal(Convert.FromHexString(Hex20), id.Value.ToArray());
        Assert.True(FixedBytes<Bytes20>.TryParseHex(Hex20, HexCase.LowerOnly, out Id20 again));
        Assert.Equal(id, again);
    }

    [Fact]
    public void Wrong_length_is_refused_naming_the_value_and_the_length()
    {
        var error = Assert.Throws<FormatException>(() => FixedBytes<Bytes20>.ParseHex<Id20>("0123", HexCase.Either, "an id"));
        Assert.Contains("an id of 40 hex digits", error.Message, StringComparison.Ordinal);
        Assert.Contains("it is 4 characters", error.Message, StringComparison.Ordinal);
        Assert.False(FixedBytes<Bytes20>.TryParseHex(Hex20 + "00", HexCase.Either, out Id20 _));
        Assert.False(FixedBytes<Bytes20>.TryParseHex(null, HexCase.Either, out Id20 _));
        var wrongBytes = Assert.Throws<ArgumentException>(() => new FixedBytes<Bytes32>(new byte[20], "a root"));
        Assert.Contains("a root is 32 bytes, got 20", wrongBytes.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_hex_and_the_wrong_case_are_refused_naming_the_character()
    {
        var error = Assert.Throws<FormatException>(() => FixedBytes<Bytes20>.ParseHex<Id20>("zz" + Hex20[2..], HexCase.Either, "an id"));
        Assert.Contains("'z' at 0 is not a hex digit", error.Message, StringComparison.Ordinal);
        var upper = Assert.Throws<FormatException>(() => FixedBytes<Bytes20>.ParseHex<Id20>(Hex20[..39] + "A", HexCase.LowerOnly, "an id"));
        Assert.Contains("'A' at 39 is not a lowercase hex digit", upper.Message, StringComparison.Ordinal);
        Assert.False(FixedBytes<Bytes20>.TryParseHex(Hex20.ToUpperInvariant(), HexCase.LowerOnly, out Id20 _));
    }

    [Fact]
    public void Xor_leading_zero_bits_and_bits_read_big_endian()
    {
        var zero = new FixedBytes<Bytes20>(new byte[20], "an id");
        Assert.True(zero.IsZero);
        Assert.Equal(160, zero.LeadingZeroBits());
        var last = new byte[20];
        last[19] = 1;
        var one = new FixedBytes<Bytes20>(last, "an id");
        Assert.False(one.IsZero);
        Assert.Equal(159, one.LeadingZeroBits());
        Assert.True(one.GetBit(159));
        Assert.False(one.GetBit(0));
        Assert.Equal(one, one.Xor(zero));
        Assert.True(one.Xor(one).IsZero);
        Assert.Throws<ArgumentOutOfRangeException>(() => one.GetBit(160));
        Assert.Throws<ArgumentException>(() => one.CopyTo(new byte[19]));
    }

    [Property]
    public bool Equality_hash_and_order_agree_with_the_bytes(byte[] left, byte[] right)
    {
        var a = Fill32(left);
        var b = Fill32(right);
        var x = new FixedBytes<Bytes32>(a, "a value");
        var y = new FixedBytes<Bytes32>(b, "a value");
        var bytewise = Math.Sign(a.AsSpan().SequenceCompareTo(b));
        var copy = new FixedBytes<Bytes32>(x.ToArray(), "a value");
        return x.CompareTo(y) == bytewise
            && x.Equals(y) == (bytewise == 0)
            && copy.Equals(x) && copy.GetHashCode() == x.GetHashCode() && copy.CompareTo(x) == 0
            && x.Xor(y).Equals(new FixedBytes<Bytes32>(a.Zip(b, (p, q) => (byte)(p ^ q)).ToArray(), "a value"))
            && x.Xor(y).LeadingZeroBits() == CountLeadingZeroBits(a.Zip(b, (p, q) => (byte)(p ^ q)).ToArray());
    }

    private static byte[] Fill32(byte[]? seed)
    {
        var bytes = new byte[32];
        (seed ?? []).AsSpan(0, Math.Min(32, seed?.Length ?? 0)).CopyTo(bytes);
        return bytes;
    }

    private static int CountLeadingZeroBits(byte[] bytes)
    {
        var bits = 0;
        foreach (var b in bytes)
        {
            for (var mask = 0x80; mask != 0; mask >>= 1, bits++)
            {
                if ((b & mask) != 0)
                {
                    return bits;
                }
            }
        }

        return bits;
    }

    private readonly record struct Id20(FixedBytes<Bytes20> Value) : IFixedBytes<Id20, Bytes20>
    {
        public static Id20 Wrap(FixedBytes<Bytes20> value) => new(value);
    }
}
