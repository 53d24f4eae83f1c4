using Microsoft.Extensions.Configuration;
using Testbed.Contracts.Settings;
using Testbed.Tracker.Hosting;

namespace Testbed.Tracker.Tests.Hosting;

/// <summary>The tracker's settings are read and refused through <see cref="TrackerSettings"/>: one key, one range, one refusal.</summary>
public sealed class TrackerOptionsTests
{
    private const string Ratio = "Tracker:AnnounceSpanSampleRatio must be a number from 0 to 1 (share of root announce spans recorded)";

    [Fact]
    public void Defaults_are_in_range_and_settings_bind_by_their_keys()
    {
        var options = TrackerOptions.Read(Configuration(new()
        {
            [TrackerSettings.Interval.Key] = "30",
            [TrackerSettings.MinInterval.Key] = "5",
            [TrackerSettings.AnnounceSpanSampleRatio.Key] = "0.5",
            [TrackerSettings.AllowClientIp.Key] = "true",
        }));
        Assert.Equal((30, 5, 0.5, true), (options.Interval, options.MinInterval, options.AnnounceSpanSampleRatio, options.AllowClientIp));
        Assert.Equal(50, options.DefaultNumWant);
        Assert.Equal("Tracker__AnnounceSpanSampleRatio", TrackerSettings.AnnounceSpanSampleRatio.EnvironmentVariable);
    }

    [Theory]
    [InlineData("Tracker:Interval", "0", "Tracker:Interval must be a whole number from 1 to 86400 (seconds between a client's regular announces), not '0'")]
    [InlineData("Tracker:Interval", "abc", "Tracker:Interval must be a whole number from 1 to 86400 (seconds between a client's regular announces), not 'abc'")]
    [InlineData("Tracker:UdpReceiveLoops", "65", "Tracker:UdpReceiveLoops must be a whole number from 0 to 64 (receive loops; 0: one per processor, at most 4), not '65'")]
    [InlineData("Tracker:MaxNumWant", "1001", "Tracker:MaxNumWant must be a whole number from 0 to 1000 (peers per announce), not '1001'")]
    [InlineData("Tracker:AnnounceSpanSampleRatio", "1.5", $"{Ratio}, not '1.5'")]
    [InlineData("Tracker:AnnounceSpanSampleRatio", "NaN", $"{Ratio}, not 'NaN'")]
    [InlineData("Tracker:MinInterval", "4000", "Tracker:MinInterval (4000) must not exceed Tracker:Interval (1800)")]
    [InlineData("Tracker:DefaultNumWant", "300", "Tracker:DefaultNumWant (300) must not exceed Tracker:MaxNumWant (200)")]
    public void A_setting_out_of_its_range_is_refused_naming_the_setting_and_the_range(string key, string value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => TrackerOptions.Read(Configuration(new() { [key] = value })));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void A_setting_above_the_one_that_bounds_it_is_refused_however_it_was_set()
    {
        var e = Assert.Throws<ArgumentException>(new TrackerOptions { Interval = 30, MinInterval = 31 }.Validate);
        Assert.Equal("Tracker:MinInterval (31) must not exceed Tracker:Interval (30)", e.Message);
        new TrackerOptions().Validate();
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
