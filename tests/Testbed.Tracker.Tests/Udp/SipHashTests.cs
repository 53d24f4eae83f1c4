namespace Testbed.Tracker.Tests.Udp;

public class SipHashTests
{
    // The reference vectors of the SipHash paper: key 00 01 .. 0f, message 00 01 .. (n - 1).
    [Theory]
    [InlineData(0, 0x726fdb47dd0e0e31UL)]
    [InlineData(15, 0xa129ca6149be45e5UL)]
    public void Matches_the_reference_vectors(int length, ulong expected)
    {
        var key = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        var message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        Assert.Equal(expected, SipHash.Hash(key, message));
    }
}
