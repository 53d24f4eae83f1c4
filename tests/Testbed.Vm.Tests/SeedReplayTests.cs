namespace Testbed.Vm.Tests;

public class SeedReplayTests
{
    [Fact]
    public void Seed_mode_replay_of_the_four_seed_contracts_gives_the_seed_final_state()
    {
        var vm = new OiscMachine(VmMode.Seed);
        long height = 1;
        foreach (var contract in SeedContracts.All)
        {
            vm.ApplyBlock(height++, [new VmTransaction("", contract)]);
        }

        Assert.Equal(SeedContracts.FinalState, vm.ExportStateJson());
    }
}
