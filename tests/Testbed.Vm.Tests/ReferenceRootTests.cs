using Testbed.Processes;

namespace Testbed.Vm.Tests;

public class ReferenceRootTests
{
    [Fact]
    public async Task The_independent_python_reference_computes_the_same_roots_as_the_vm()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "root_reference.py");
        var python = await ChildProcess.RunAsync("python3", [script], TimeSpan.FromMinutes(2));
        Assert.True(python.ExitCode == 0, python.StandardError);
        var output = python.StandardOutput;
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
}
