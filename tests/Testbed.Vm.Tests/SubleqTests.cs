namespace Testbed.Vm.Tests;

public class SubleqTests
{
    [Theory]
    [InlineData(6, 7, 42)]
    [InlineData(1, 1, 1)]
    [InlineData(0, 5, 0)]
    [InlineData(-3, 4, -12)]
    [InlineData(123456, 789, 97406784)]
    public void Multiplication_by_repeated_subtraction_runs_to_the_expected_memory(long x, long y, long product)
    {
        var vm = new OiscMachine(VmMode.Native);
        var effects = vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract(Subleq.Multiply(x, y)))]);

        var memory = vm.State.MemoryWords;
        Assert.Equal(product, memory[Subleq.Result]);
        Assert.Equal(0, memory[Subleq.Y]);
        Assert.Equal(0, memory[Subleq.Zero]);
        Assert.Equal(x, memory[Subleq.X]);
        Assert.Equal((5 * y) - 1, effects.Steps); // five instructions per round, the last round halts at the fourth
        Assert.Equal(-1, vm.State.RegisterC);    // the halting jump target
        Assert.Equal(Subleq.One, vm.State.RegisterA);
        Assert.Equal(Subleq.Y, vm.State.RegisterB);
    }

    [Fact]
    public void Core_multiplies_over_a_bare_array()
    {
        var memory = new long[100];
        Subleq.Multiply(9, 11).CopyTo(memory, 0);
        var result = SubleqCore.Run(memory, 0, 10_000);
        Assert.Equal(SubleqOutcome.Halted, result.Outcome);
        Assert.Equal(99, memory[Subleq.Result]);
        Assert.Equal(54, result.Steps);
    }

    [Fact]
    public void An_infinite_loop_stops_at_its_gas_budget_with_a_clear_error_and_changes_nothing()
    {
        var vm = new OiscMachine(VmMode.Native, new VmOptions { GasPerTransaction = 50_000 });
        var before = vm.SaveState();
        var rootBefore = vm.StateRoot;

        var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract(Subleq.Forever))]));

        Assert.Equal(0, error.TransactionIndex);
        Assert.Equal(0, error.ActionIndex);
        Assert.Contains("did not halt within its gas budget of 49999 steps", error.Reason, StringComparison.Ordinal);
        Assert.Equal(rootBefore, vm.StateRoot);
        Assert.Equal(before, vm.SaveState());
    }

    [Fact]
    public void The_block_gas_budget_caps_the_transactions_together()
    {
        var vm = new OiscMachine(VmMode.Native, new VmOptions { GasPerTransaction = 1_000, GasPerBlock = 1_500 });
        var program = new VmTransaction("ab01", Subleq.Contract(Subleq.Multiply(2, 100))); // 499 steps + 1 for the action
        vm.ApplyBlock(1, [program, program, program]);

        var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(2, [program, program, program, program]));
        Assert.Equal(3, error.TransactionIndex);
        Assert.Contains("the block's gas budget of 1500 steps is used up", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_action_gas_field_caps_the_run()
    {
        var vm = new OiscMachine(VmMode.Native);
        var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract(Subleq.Forever, gas: 1000))]));
        Assert.Contains("gas budget of 1000 steps", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Core_reports_out_of_gas_with_the_exact_step_count()
    {
        var memory = new long[10];
        Subleq.Forever.CopyTo(memory, 0);
        var result = SubleqCore.Run(memory, 0, 12345);
        Assert.Equal(SubleqOutcome.OutOfGas, result.Outcome);
        Assert.Equal(12345, result.Steps);
    }

    [Fact]
    public void An_operand_outside_memory_is_a_fault()
    {
        var vm = new OiscMachine(VmMode.Native);
        var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract([100, 0, -1]))]));
        Assert.Contains("outside memory of 100 words", error.Reason, StringComparison.Ordinal);

        var negative = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract([-5, 0, -1]))]));
        Assert.Contains("SUBLEQ fault", negative.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Running_off_the_end_of_memory_is_a_fault()
    {
        // pc 1 needs words 1, 2 and 3, but memory has only three words.
        var result = SubleqCore.Run(new long[3], 1, 10);
        Assert.Equal(SubleqOutcome.Fault, result.Outcome);
        Assert.Equal(1, result.ProgramCounter);
    }

    [Fact]
    public void A_negative_entry_halts_at_once()
    {
        var result = SubleqCore.Run(new long[5], -1, 10);
        Assert.Equal(new SubleqResult(SubleqOutcome.Halted, 0, -1, 0, 0), result);
    }

    [Fact]
    public void Memory_and_registers_persist_between_transactions_and_enter_the_root()
    {
        var vm = new OiscMachine(VmMode.Native);
        var empty = vm.StateRoot;
        vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract(Subleq.Multiply(2, 3)))]);
        var afterFirst = vm.StateRoot;
        Assert.NotEqual(empty, afterFirst);

        // Run the loaded program again without reloading it: y is 0 now, so it adds x once more and halts.
        vm.ApplyBlock(2, [new VmTransaction("ab01", """{"actions":[{"action":"subleq"}]}""")]);
        Assert.Equal(8, vm.State.MemoryWords[Subleq.Result]);
        Assert.NotEqual(afterFirst, vm.StateRoot);
    }

    [Fact]
    public void A_failing_transaction_restores_memory_written_by_an_earlier_action_of_it()
    {
        var vm = new OiscMachine(VmMode.Native, new VmOptions { GasPerTransaction = 10_000 });
        vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract(Subleq.Multiply(2, 3)))]);
        var before = vm.SaveState();
        var root = vm.StateRoot;
        var contract = $$"""{"actions":[{"action":"subleq","program":[{{string.Join(",", Subleq.Multiply(5, 5))}}]},{"action":"subleq","program":[53,53,50,0],"offset":50}]}""";

        var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(2, [new VmTransaction("ab01", contract)]));

        Assert.Equal(1, error.ActionIndex);
        Assert.Equal(root, vm.StateRoot);
        Assert.Equal(before, vm.SaveState());
        Assert.Equal(6, vm.State.MemoryWords[Subleq.Result]);
    }

    [Fact]
    public void A_block_with_subleq_reverts_to_the_prior_memory()
    {
        var vm = new OiscMachine(VmMode.Native);
        vm.ApplyBlock(1, [new VmTransaction("ab01", Subleq.Contract(Subleq.Multiply(2, 3)))]);
        var before = vm.SaveState();
        var effects = vm.ApplyBlock(2, [new VmTransaction("ab01", Subleq.Contract(Subleq.Multiply(7, 7)))]);
        Assert.Equal(49, vm.State.MemoryWords[Subleq.Result]);

        vm.Revert(BlockEffects.Deserialize(effects.Serialize()));

        Assert.Equal(before, vm.SaveState());
        Assert.Equal(effects.RootBefore, vm.StateRoot);
    }
}
