namespace Testbed.Vm.Tests;

/// <summary>A prepared block (a miner's template) is run once and applied later without running: the same state, undo data that works, nothing changed when the state moved.</summary>
public class PreparedBlockTests
{
    private const string Sender = "ab01";

    [Fact]
    public void Redo_gives_the_state_a_run_gives_without_running_again()
    {
        var run = Populated();
        var prepared = Populated();
        IReadOnlyList<VmTransaction> block = [new VmTransaction(Sender, SeedContracts.All[0]), new VmTransaction(Sender, Subleq.Contract(Subleq.Multiply(6, 7)))];
        var rootBefore = prepared.StateRoot;

        var prepare = prepared.Prepare(10, block);
        Assert.Equal(rootBefore, prepared.StateRoot);
        var runs = prepared.BlocksRun;
        var effects = prepared.Redo(prepare);
        var ranEffects = run.ApplyBlock(10, block);

        Assert.Equal(runs, prepared.BlocksRun);
        Assert.Equal(run.StateRoot, prepared.StateRoot);
        Assert.Equal(run.ExportStateJson(), prepared.ExportStateJson());
        Assert.Equal(42, prepared.State.MemoryWords[Subleq.Result]);
        Assert.Equal(ranEffects.Serialize(), effects.Serialize());

        prepared.Revert(effects);
        Assert.Equal(rootBefore, prepared.StateRoot);
    }

    [Fact]
    public void Redo_on_a_state_that_moved_is_refused_and_changes_nothing()
    {
        var vm = Populated();
        var prepare = vm.Prepare(10, [new VmTransaction(Sender, SeedContracts.All[0])]);
        vm.ApplyBlock(10, [new VmTransaction(Sender, Subleq.Contract(Subleq.Multiply(2, 3)))]);
        var moved = vm.StateRoot;
        var json = vm.ExportStateJson();

        var error = Assert.Throws<InvalidOperationException>(() => vm.Redo(prepare));

        Assert.Contains("prepared on", error.Message, StringComparison.Ordinal);
        Assert.Equal(moved, vm.StateRoot);
        Assert.Equal(json, vm.ExportStateJson());
    }

    private static OiscMachine Populated()
    {
        var vm = new OiscMachine(VmMode.Native);
        var height = 1L;
        foreach (var contract in SeedContracts.All.Skip(1))
        {
            vm.ApplyBlock(height++, [new VmTransaction(Sender, contract)]);
        }

        return vm;
    }
}
