namespace Testbed.Chaos.Tests.Scenarios;

/// <summary>A scenario's <c>difficulty_bits</c> is checked with the peer's one range and refused with its message.</summary>
public sealed class DifficultySettingTests
{
    [Theory]
    [InlineData("65")]
    [InlineData("0")]
    [InlineData("lots")]
    public void A_bad_difficulty_is_refused_naming_the_setting_and_the_range(string bits)
    {
        var error = Assert.Throws<ScenarioParseException>(() => ScenarioParser.Parse(Yaml(bits)));

        var first = Assert.Single(error.Errors);
        Assert.Equal("difficulty_bits", first.Field);
        Assert.Equal($"difficulty_bits (Testbed:DifficultyBits) must be a whole number from 1 to 64 (leading zero bits of a block hash), not '{bits}'", first.Message);
    }

    [Fact]
    public void The_whole_range_the_peer_takes_is_accepted()
    {
        Assert.Equal(64, ScenarioParser.Parse(Yaml("64")).Get("s").Topology.DifficultyBits);
        Assert.Equal(1, ScenarioParser.Parse(Yaml("1")).Get("s").Topology.DifficultyBits);
    }

    private static string Yaml(string bits) => $"scenarios:\n  - name: s\n    peers: 2\n    difficulty_bits: {bits}\n    steps: [ {{ wait: 1s }} ]";
}
