using System.Diagnostics;

namespace Testbed.Vm.Tests;

public class ReferenceRootTests
{
    [Fact]
    public async Task The_independent_python_reference_computes_the_same_roots_as_the_vm()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "root_reference.py");
        var start = new ProcessStartInfo("python3", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync(timeout.Token));
            var roots = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);

            Assert.Equal(new OiscMachine(VmMode.Seed).StateRoot.ToString(), roots["empty"]);

            var seed = new OiscMachine(VmMode.Seed);
            var height = 1L;
            foreach (var contract in SeedContracts.All)
            {
                seed.ApplyBlock(height++, [new VmTransaction("", contract)]);
            }

            Assert.Equal(seed.StateRoot.ToString(), roots["seed_final"]);
            Assert.Equal(ExpectedRoots.ManyCourses, roots["many_courses"]);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
