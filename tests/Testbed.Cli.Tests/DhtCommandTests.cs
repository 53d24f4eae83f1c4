using Testbed.Processes;
using Testbed.Torrent.Dht;
using Testbed.Torrent.Dht.Storage;
using Testbed.Torrent.Sessions;

namespace Testbed.Cli.Tests;

/// <summary>`testbed dht` (a standalone node) and `torrent get --dht-bootstrap` (peers found through the DHT).</summary>
public sealed class DhtCommandTests
{
    [Theory]
    [InlineData(new[] { "dht" }, "--listen")]
    [InlineData(new[] { "dht", "--listen", "nonsense" }, "--listen")]
    [InlineData(new[] { "dht", "--listen", "[::1]:0" }, "IPv4 only")]
    [InlineData(new[] { "dht", "--listen", "127.0.0.1:0", "--bootstrap", "127.0.0.1:0" }, "--bootstrap")]
    [InlineData(new[] { "dht", "--listen", "127.0.0.1:0", "--bootstrap", "x:y" }, "--bootstrap")]
    [InlineData(new[] { "dht", "--listen", "127.0.0.1:0", "--state", "/nonexistent-dir/state" }, "--state")]
    [InlineData(new[] { "dht", "--listen", "127.0.0.1:0", "--state", "/tmp" }, "--state", "directory")]
    [InlineData(new[] { "dht", "--listen", "127.0.0.1:0", "--status-interval", "0" }, "--status-interval")]
    [InlineData(new[] { "torrent", "get", "x.torrent", "--dir", "/tmp", "--dht-bootstrap", "nonsense" }, "--dht-bootstrap")]
    public async Task Bad_arguments_exit_2_in_one_line(string[] args, params string[] mentions) =>
        await CliProcess.FailsAsync(2, args, mentions);

    [Fact]
    public async Task A_standalone_node_answers_keeps_who_it_met_and_saves_its_state_on_ctrl_c()
    {
        using var dir = new BadInputDir();
        var statePath = dir.File("dht.state");
        string[] args = [Path.Combine(AppContext.BaseDirectory, "testbed.dll"), "dht", "--listen", "127.0.9.1:0", "--state", statePath, "--status-interval", "1"];
        await using var process = ChildProcess.Start("dotnet", args);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var first = await WaitForLineAsync("listening on", bound.Token);
        var words = first.Split(' ');
        var printedId = NodeId.ParseHex(words[2]);
        var endPoint = IPEndPoint.Parse(words[^1]);

        await using (var visitor = await DhtNode.StartAsync(new DhtNodeOptions(new IPEndPoint(IPAddress.Parse("127.0.9.2"), 0)), bound.Token))
        {
            Assert.Equal(printedId, await visitor.PingAsync(endPoint, bound.Token));
            // It pings an unknown querier back and keeps it once it answers.
            await WaitForLineAsync("1 nodes in the routing table", bound.Token);
            Assert.True(process.Signal("INT"), "kill -INT failed");
            await process.WaitForExitAsync(bound.Token);
            Assert.True(process.ExitCode == 0, process.Output);
            var state = DhtState.Decode(await File.ReadAllBytesAsync(statePath, bound.Token));
            Assert.Equal(printedId, state.Id);
            Assert.Equal(visitor.LocalEndPoint, Assert.Single(state.Nodes).EndPoint);
        }

        async Task<string> WaitForLineAsync(string fragment, CancellationToken cancellationToken)
        {
            while (true)
            {
                if (process.Lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal)) is { } line)
                {
                    return line;
                }

                Assert.False(process.HasExited, process.Output);
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    [Fact]
    public async Task Torrent_get_finds_its_seeder_through_the_dht_alone()
    {
        using var t = new TorrentCase();
        var seedDir = Directory.CreateDirectory(t.Dir.File("seed")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "g.bin"), t.Content);
        var metainfo = TorrentMetainfo.Load(await File.ReadAllBytesAsync(t.Torrent));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        // The seeder and the node that announces it share an address: an announce names the sender's IP.
        var seederAddress = IPAddress.Parse("127.0.9.3");
        await using var seeder = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(seederAddress, 0) });
        seeder.Start();
        var seed = seeder.Add(metainfo, seedDir, new TorrentSessionOptions { UseTrackers = false, ReadOnly = true });
        await seed.StartAsync(bound.Token);
        await using var bootstrap = await DhtNode.StartAsync(new DhtNodeOptions(new IPEndPoint(IPAddress.Parse("127.0.9.4"), 0)), bound.Token);
        await using var announcer = await DhtNode.StartAsync(new DhtNodeOptions(new IPEndPoint(seederAddress, 0)) { Bootstrap = [bootstrap.LocalEndPoint] }, bound.Token);
        Assert.Equal(1, await announcer.AnnounceAsync(metainfo.InfoHash, seeder.LocalEndPoint!.Port, bound.Token));

        var outcome = await CliProcess.RunAsync(
            ["torrent", "get", t.Torrent, "--dir", t.Dir.File("out"), "--no-tracker", "--listen", "127.0.9.5:0", "--dht-bootstrap", bootstrap.LocalEndPoint.ToString(), "--timeout", "60"],
            timeout: TimeSpan.FromSeconds(80));
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Contains("complete", outcome.Stdout, StringComparison.Ordinal);
        Assert.Equal(t.Content, await File.ReadAllBytesAsync(Path.Combine(t.Dir.File("out"), "g.bin"), bound.Token));
    }
}
