using Microsoft.Extensions.Configuration;
using Testbed.AppHost.Model;
using Testbed.Contracts.Settings;

namespace Testbed.AppHost.Tests;

/// <summary>The AppHost's <c>--difficulty</c> (or <c>Testbed:DifficultyBits</c>) is checked with the peer's one range and refused with its message.</summary>
public sealed class DifficultySettingTests
{
    [Theory]
    [InlineData("difficulty", "65")]
    [InlineData("difficulty", "0")]
    [InlineData("difficulty", "lots")]
    [InlineData("Testbed:DifficultyBits", "65")]
    public void A_bad_difficulty_is_refused_naming_the_option_the_setting_and_the_range(string key, string bits)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = bits }).Build();

        Assert.False(TestbedSettings.TryRead(configuration, "unused", out _, out var error));

        Assert.Equal($"--difficulty (Testbed:DifficultyBits) must be a whole number from 1 to 64 (leading zero bits of a block hash), not '{bits}'", error);
    }

    [Fact]
    public void A_difficulty_in_range_reaches_the_peers_environment_as_the_peer_reads_it()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["difficulty"] = "64" }).Build();

        Assert.True(TestbedSettings.TryRead(configuration, "unused", out var settings, out _));

        Assert.Equal(64, settings.DifficultyBits);
        Assert.Equal("Testbed__DifficultyBits", PeerSettings.DifficultyBits.EnvironmentVariable);
        Assert.Equal("64", PeerSettings.DifficultyBits.Format(settings.DifficultyBits!.Value));
        Assert.Throws<ArgumentException>(() => PeerSettings.DifficultyBits.Format(65));
    }
}
