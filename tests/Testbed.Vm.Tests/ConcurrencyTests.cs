namespace Testbed.Vm.Tests;

public class ConcurrencyTests
{
    [Fact]
    public async Task Validating_on_another_thread_while_blocks_are_applied_changes_no_root()
    {
        var vm = new OiscMachine(VmMode.Native);
        var reference = new OiscMachine(VmMode.Native);
        var blocks = Enumerable.Range(0, 200)
            .Select(i => new VmTransaction("ab" + (i % 7).ToString("x2", System.Globalization.CultureInfo.InvariantCulture), "{\"actions\":[{\"action\":\"add_course\",\"course\":{\"id\":\"C" + i + "\"}},{\"action\":\"vote_proposal\",\"proposal\":{\"id\":\"P" + i + "\"}}]}"))
            .ToList();
        using var stop = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        var validator = Task.Run(() =>
        {
            var checks = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    vm.Validate(new VmTransaction("cd", Subleq.Contract(Subleq.Multiply(3, 3))));
                    vm.Validate(blocks[checks % blocks.Count]);
                }
                catch (VmRejectedException)
                {
                    // Already applied: a duplicate id. Refusing it is correct.
                }

                checks++;
                started.Set();
            }

            return checks;
        });

        // Overlap for sure: apply only once the validator is running (the machine may be slow and loaded).
        Assert.True(started.Wait(TimeSpan.FromMinutes(1)), "the validating thread never ran");
        for (var i = 0; i < blocks.Count; i++)
        {
            vm.ApplyBlock(i + 1, [blocks[i]]);
            reference.ApplyBlock(i + 1, [blocks[i]]);
        }

        await stop.CancelAsync();
        Assert.True(await validator > 0);
        Assert.Equal(reference.StateRoot, vm.StateRoot);
        Assert.Equal(reference.SaveState(), vm.SaveState());
    }

    [Fact]
    public void An_operation_that_crashes_leaves_the_state_unchanged()
    {
        var vm = new OiscMachine(VmMode.Seed);
        vm.RegisterOperation("crash", new CrashOperation());
        vm.ApplyBlock(1, [new VmTransaction("", SeedContracts.RegisterStudent)]);
        var before = vm.SaveState();
        Assert.Throws<InvalidOperationException>(() => vm.ApplyBlock(2, [new VmTransaction("", SeedContracts.AddCourse), new VmTransaction("", """{"actions":[{"action":"crash"}]}""")]));
        Assert.Equal(before, vm.SaveState());
    }

    private sealed class CrashOperation : IVmOperation
    {
        public VmAction Decode(System.Text.Json.JsonElement action, VmDecodeContext context) => new Crash();
    }

    private sealed class Crash : VmAction
    {
        public override string Name => "crash";

        public override void Execute(VmExecutionContext context)
        {
            context.State.Courses.Set("half-done", new StateEntry(VmObject.Empty, 0, ""));
            throw new InvalidOperationException("a bug in a registered operation");
        }
    }
}
