using Testbed.Peer.Hosting;

namespace Testbed.Peer.Tests;

/// <summary>Testbed:BindAddress and Testbed:AdvertiseAddress: the {replica} placeholder and the errors naming the setting.</summary>
public sealed class PeerAddressesTests
{
    [Fact]
    public void Empty_settings_bind_127_0_0_1_and_advertise_nothing()
    {
        var addresses = PeerAddresses.Resolve(new PeerOptions(), "peer-3");
        Assert.Equal(IPAddress.Loopback, addresses.Bind);
        Assert.Null(addresses.Advertise);
    }

    [Fact]
    public void The_replica_placeholder_takes_N_of_the_peer_name()
    {
        var addresses = PeerAddresses.Resolve(new PeerOptions { BindAddress = "127.140.6.{replica}", AdvertiseAddress = "127.140.7.{replica}" }, "peer-12");
        Assert.Equal(IPAddress.Parse("127.140.6.12"), addresses.Bind);
        Assert.Equal(IPAddress.Parse("127.140.7.12"), addresses.Advertise);
    }

    [Theory]
    [InlineData("10.0.0.{replica}", "peer-1", "Testbed:BindAddress must be a loopback address")]
    [InlineData("127.1.1.{replica}", "alice", "does not end in -N")]
    [InlineData("127.1.1.{replica}", "peer-300", "not '127.1.1.300'")]
    [InlineData("localhost", "peer-1", "not 'localhost'")]
    public void Unusable_bind_addresses_are_refused_naming_the_setting(string value, string peer, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => PeerAddresses.Resolve(new PeerOptions { BindAddress = value }, peer));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("Testbed:BindAddress", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unusable_advertise_address_names_its_own_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => PeerAddresses.Resolve(new PeerOptions { AdvertiseAddress = "192.168.1.5" }, "peer-1"));
        Assert.Contains("Testbed:AdvertiseAddress", error.Message, StringComparison.Ordinal);
    }
}
