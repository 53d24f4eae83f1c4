using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Testbed.AppHost.Model;
using Testbed.Chaos.Checking;
using Testbed.Contracts.Settings;
using Testbed.TestSupport;

namespace Testbed.AppHost.Tests;

/// <summary>
/// Every chaos check shown to fail before its pass is believed (Jepsen's rule): the AppHost runs one peer with a deliberate
/// defect (<c>--broken peer-N=MODE</c>, the peer's Testbed:Broken), the chaos service runs the scenario that should catch
/// it, and the named check fails with a message naming the peer and the block. The same scenarios pass on honest peers
/// (<see cref="ScenarioTests"/>). docs/chaos.md has the table.
/// </summary>
[Collection(nameof(TestbedCollection))]
public sealed class BrokenPeerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private const string Block = "[0-9a-f]{12}";

    /// <summary>Defect, broken peer, the scenario that catches it, the check that must fail, what it must say.</summary>
    public static TheoryData<string, string, string, string, string> Defects() => new()
    {
        {
            "skip-signature-check", "peer-3", "byzantine-miner", InvariantChecker.NoInvalidBlockAcceptedName,
            $@"peer-3 accepted wrong-key block {Block} \(height \d+\) from peer-4: \w+ via announce"
        },
        {
            "lose-last-block", "peer-2", "crash-restart", InvariantChecker.NoAcknowledgedBlockLostName,
            $@"peer-2 did not load block {Block} \(height \d+\) from its own store after its crash at [\d:.]+; it had acknowledged it"
        },
        {
            "corrupt-state-after-reorg", "peer-2", "partition-heal", InvariantChecker.ChainConsistentName,
            @"peer-2 \(height \d+, tip [0-9a-f]{12}\) is inconsistent: VM state root [0-9a-f]{64} is not the state root [0-9a-f]{64} of the tip [0-9a-f]{64}"
        },
        {
            "stop-mining-silently", "peer-2", "baseline-convergence", InvariantChecker.HeightGrowsName,
            $@"step \d+ \(mine on peer-2\): peer-2 reported block {Block} at height \d+ \(\d+ blocks\) but was seen no higher than \d+ before step \d+"
        },
    };

    [Theory]
    [MemberData(nameof(Defects))]
    public async Task The_defect_fails_its_scenario_in_the_named_check_naming_the_peer_and_the_block(string defect, string peer, string scenario, string check, string says)
    {
        await using var testbed = await TestbedApp.StartAsync(["--scenario", scenario, "--broken", $"{peer}={defect}"], ["tracker", "chaos", "peer-1", "peer-2", "peer-3"], output);
        foreach (var name in new[] { "peer-1", "peer-2", "peer-3" })
        {
            var environment = (await testbed.SnapshotAsync(name)).EnvironmentVariables;
            Assert.Equal(name == peer ? defect : null, environment.FirstOrDefault(e => e.Name == PeerSettings.Broken.EnvironmentVariable)?.Value);
        }

        var result = await testbed.CommandAsync("chaos", ChaosCommands.ScenarioCommand(scenario), Patience);

        Assert.False(result.Success, $"{scenario} passed with {peer} running {defect}: {result.Message}");
        // Checks are listed as "name: detail"; the detail of this one must name the peer and the block.
        Assert.Matches(new Regex(Regex.Escape(check + ": ") + ".*" + says, RegexOptions.Singleline), result.Message);
    }

    [Theory]
    [InlineData("peer-2=lose-last-block", "peer-2:lose-last-block")]
    [InlineData("peer-2=lose-last-block, peer-2=skip-signature-check,peer-1=stop-mining-silently", "peer-1:stop-mining-silently peer-2:lose-last-block,skip-signature-check")]
    [InlineData("peer-5=lose-last-block", "error: --broken must be peer-N=MODE with N from 1 to 4, not 'peer-5=lose-last-block'")]
    [InlineData("peer-2", "error: --broken must be peer-N=MODE with N from 1 to 4, not 'peer-2'")]
    [InlineData("tracker=lose-last-block", "error: --broken must be peer-N=MODE with N from 1 to 4, not 'tracker=lose-last-block'")]
    [InlineData("peer-2=lose-everything", "error: --broken peer-2: unknown mode 'lose-everything'; known: skip-signature-check, lose-last-block, corrupt-state-after-reorg, stop-mining-silently")]
    public void The_broken_setting_names_known_peers_and_modes_only(string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["broken"] = value }).Build();
        var ok = TestbedSettings.TryRead(configuration, Path.Combine(Repository.Root, "scenarios.yaml"), out var settings, out var error);

        Assert.Equal(expected, ok ? string.Join(" ", settings.Broken.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => $"{b.Key}:{b.Value}")) : "error: " + error);
        Assert.True(TestbedSettings.TryRead(new ConfigurationBuilder().Build(), "unused", out var honest, out _));
        Assert.Empty(honest.Broken);
    }
}
