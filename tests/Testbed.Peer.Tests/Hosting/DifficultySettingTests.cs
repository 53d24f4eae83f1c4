using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Testbed.Peer.Hosting;

namespace Testbed.Peer.Tests.Hosting;

/// <summary>The peer refuses a difficulty out of the one range (<see cref="PeerSettings.DifficultyBits"/>) with one message naming the setting and the range.</summary>
public sealed class DifficultySettingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("65")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("lots")]
    public void The_configured_text_is_refused_before_it_is_bound(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => PeerOptions.Read(Options(text), Configuration(text)));

        Assert.Equal($"Testbed:DifficultyBits must be a whole number from 1 to 64 (leading zero bits of a block hash), not '{text}'", error.Message);
    }

    [Fact]
    public void A_value_set_in_code_is_refused_by_the_same_check()
    {
        var options = new PeerOptions { DataDir = "/tmp/unused", DifficultyBits = 65 };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("Testbed:DifficultyBits must be a whole number from 1 to 64 (leading zero bits of a block hash), not '65'", error.Message);
    }

    [Fact]
    public void A_difficulty_in_range_is_read()
    {
        var options = PeerOptions.Read(Options("64"), Configuration("64"));

        Assert.Equal(64u, options.DifficultyBits);
    }

    [Fact]
    public async Task A_peer_process_given_a_bad_difficulty_exits_2_naming_the_setting_and_range()
    {
        await using var net = await PeerNetwork.StartAsync(output);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            net.StartPeerAsync("peer-1", new Dictionary<string, string> { [PeerSettings.DifficultyBits.EnvironmentVariable] = "65" }));

        Assert.Contains("exited with code 2", refused.Message, StringComparison.Ordinal);
        Assert.Contains("error: Testbed:DifficultyBits must be a whole number from 1 to 64 (leading zero bits of a block hash), not '65'", refused.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(string difficulty) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [PeerSettings.DifficultyBits.Key] = difficulty, [PeerSettings.DataDir.Key] = "/tmp/unused" })
            .Build();

    // Bound lazily, as in the peer's host: reading Value binds the section.
    private static IOptions<PeerOptions> Options(string difficulty) =>
        new ServiceCollection().Configure<PeerOptions>(Configuration(difficulty).GetSection(PeerSettings.Section)).BuildServiceProvider().GetRequiredService<IOptions<PeerOptions>>();
}
