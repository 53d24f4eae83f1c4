using Testbed.Ledger.CrashWriter;
using Testbed.Processes;
using Xunit.Abstractions;

namespace Testbed.Ledger.Tests.Storage;

/// <summary>
/// Kills a child process that is writing blocks (with reorgs) at random moments, 20 times; after each kill the store must
/// open, be consistent, and hold every block the child acknowledged, with at least the work of the last acknowledged tip.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private const int Kills = 20;

    [Fact]
    public async Task Store_survives_twenty_kills_of_a_writer_and_keeps_every_acknowledged_block()
    {
        using var dir = new TempDir();
        var writer = Path.Combine(AppContext.BaseDirectory, "Testbed.Ledger.CrashWriter.dll");
        Assert.True(File.Exists(writer), $"crash writer not built next to the tests: {writer}");
        var random = new Random(20261124);
        var acknowledged = new List<string>();
        var killedMidWrite = 0;
        for (var run = 0; run < Kills; run++)
        {
            var acks = await RunAndKill(writer, dir.Path, run, random);
            killedMidWrite += acks.Count > 0 ? 1 : 0;
            acknowledged.AddRange(acks);

            using var chain = Blockchain.Open(Path.Combine(dir.Path, "main"), CrashNetwork.Config);
            var problems = chain.CheckConsistency(deep: run == Kills - 1);
            Assert.True(problems.Count == 0, $"after kill {run}: " + string.Join("; ", problems));
            foreach (var hash in acknowledged)
            {
                Assert.True(chain.Contains(Hash256.Parse(hash)), $"after kill {run}: acknowledged block {hash} is missing");
            }

            if (acks.Count > 0)
            {
                var lastAcked = chain.GetHeader(Hash256.Parse(acks[^1]))!;
                Assert.True(chain.Tip.Height >= (long)lastAcked.Height - 1, $"after kill {run}: tip {chain.Tip.Height} far below the last acknowledged block at {lastAcked.Height}");
            }

            output.WriteLine($"kill {run}: {acks.Count} blocks acknowledged in this run, tip height {chain.Tip.Height}");
        }

        Assert.True(acknowledged.Count > Kills, $"the writer acknowledged only {acknowledged.Count} blocks in {Kills} runs");
        Assert.True(killedMidWrite >= Kills / 4, $"only {killedMidWrite} of {Kills} kills happened after the writer had started writing");
    }

    private async Task<List<string>> RunAndKill(string writer, string directory, int run, Random random)
    {
        var acks = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new ChildProcessOptions
        {
            OnOutputLine = line =>
            {
                if (line.StartsWith("READY", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
                else if (line.StartsWith("ACK ", StringComparison.Ordinal))
                {
                    lock (acks)
                    {
                        acks.Add(line.Split(' ')[1]);
                    }
                }
            },
        };
        await using (var process = ChildProcess.Start("dotnet", [writer, directory, run.ToString(System.Globalization.CultureInfo.InvariantCulture)], options))
        {
            // Most kills land while blocks are being written; every fifth may land during start-up and opening.
            if (run % 5 != 4)
            {
                await Task.WhenAny(ready.Task, process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
                Assert.True(ready.Task.IsCompleted, $"writer did not start: {process.StandardError}");
            }

            await Task.Delay(random.Next(150, 1500));
            Assert.False(process.HasExited, $"writer stopped by itself: {process.StandardError}");
        }

        lock (acks)
        {
            return [.. acks];
        }
    }
}
