namespace Testbed.Vm.Tests;

public class PersistenceTests
{
    private static OiscMachine Populated(VmMode mode)
    {
        var vm = new OiscMachine(mode);
        var sender = mode == VmMode.Native ? "ab01" : "";
        var height = 1L;
        foreach (var contract in SeedContracts.All)
        {
            vm.ApplyBlock(height++, [new VmTransaction(sender, contract)]);
        }

        vm.ApplyBlock(height, [new VmTransaction(sender, Subleq.Contract(Subleq.Multiply(4, 5)))]);
        return vm;
    }

    [Theory]
    [InlineData(VmMode.Native)]
    [InlineData(VmMode.Seed)]
    public void Save_and_load_keep_the_state_and_root(VmMode mode)
    {
        var vm = Populated(mode);
        var loaded = OiscMachine.LoadState(vm.SaveState(), mode);
        Assert.Equal(vm.StateRoot, loaded.StateRoot);
        Assert.Equal(vm.ExportStateJson(), loaded.ExportStateJson());
        Assert.Equal(20, loaded.State.MemoryWords[Subleq.Result]);
    }

    [Fact]
    public void Corrupt_state_and_effects_fail_with_a_clear_error()
    {
        var vm = Populated(VmMode.Seed);
        var state = vm.SaveState();
        var truncated = Assert.Throws<InvalidDataException>(() => OiscMachine.LoadState(state.AsSpan(0, state.Length - 3), VmMode.Seed));
        Assert.Contains("truncated", truncated.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => OiscMachine.LoadState("garbage"u8, VmMode.Seed));
        var wrongSize = Assert.Throws<InvalidDataException>(() => OiscMachine.LoadState(state, VmMode.Seed, new VmOptions { MemoryWords = 64 }));
        Assert.Contains("configured for 64", wrongSize.Message, StringComparison.Ordinal);

        var effects = vm.ApplyBlock(9, [new VmTransaction("", SeedContracts.VoteProposal)]).Serialize();
        Assert.Throws<InvalidDataException>(() => BlockEffects.Deserialize(effects.AsSpan(0, effects.Length / 2)));
        var huge = (byte[])effects.Clone();
        huge[^4] = 0xFF; // the last field is the prior owner's length (0): make it 4 GB
        var bounded = Assert.Throws<InvalidDataException>(() => BlockEffects.Deserialize(huge));
        Assert.Contains("exceeds the limit", bounded.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Effects_round_trip_and_revert_refuses_the_wrong_block()
    {
        var vm = Populated(VmMode.Native);
        var first = vm.ApplyBlock(10, [new VmTransaction("cd02", SeedContracts.VoteProposal)]);
        var copy = BlockEffects.Deserialize(first.Serialize());
        Assert.Equal(first.Height, copy.Height);
        Assert.Equal(first.RootBefore, copy.RootBefore);
        Assert.Equal(first.RootAfter, copy.RootAfter);
        Assert.Equal(first.Serialize(), copy.Serialize());

        var second = vm.ApplyBlock(11, [new VmTransaction("ef03", SeedContracts.VoteProposal)]);
        var error = Assert.Throws<InvalidOperationException>(() => vm.Revert(first));
        Assert.Contains("revert blocks newest first", error.Message, StringComparison.Ordinal);
        vm.Revert(second);
        vm.Revert(copy);
        Assert.Equal(first.RootBefore, vm.StateRoot);
    }

    [Fact]
    public void Corrupt_effects_that_do_not_lead_back_to_the_prior_root_change_nothing()
    {
        var vm = Populated(VmMode.Seed);
        var effects = vm.ApplyBlock(10, [new VmTransaction("", """{"actions":[{"action":"add_course","course":{"id":"NEW"}},{"action":"vote_proposal","proposal":{"id":"P001"}}]}""")]);
        var bytes = effects.Serialize();
        var tampered = (byte[])bytes.Clone();
        tampered[^9] ^= 1; // the last change is P001's prior entry; its counter's low byte sits 4 + 4 bytes from the end
        var state = vm.SaveState();

        var error = Assert.Throws<InvalidOperationException>(() => vm.Revert(BlockEffects.Deserialize(tampered)));
        Assert.Contains("corrupt; nothing was changed", error.Message, StringComparison.Ordinal);
        Assert.Equal(state, vm.SaveState());
        vm.Revert(BlockEffects.Deserialize(bytes));
        Assert.Equal(effects.RootBefore, vm.StateRoot);
    }

    [Fact]
    public void A_transaction_decoded_for_another_mode_is_refused()
    {
        var native = new OiscMachine(VmMode.Native).Decode(new VmTransaction("ab", SeedContracts.VoteProposal));
        var seed = new OiscMachine(VmMode.Seed);
        Assert.Throws<ArgumentException>(() => seed.ApplyDecodedBlock(1, [native]));
        Assert.Equal(new OiscMachine(VmMode.Seed).StateRoot, seed.StateRoot);
    }

    [Fact]
    public void State_root_parses_and_prints_lowercase_hex()
    {
        var root = new OiscMachine(VmMode.Seed).StateRoot;
        var text = root.ToString();
        Assert.Matches("^[0-9a-f]{64}$", text);
        Assert.Equal(root, StateRoot.Parse(text.ToUpperInvariant()));
        Assert.Equal(root.ToArray(), StateRoot.Parse(text).ToArray());
        Assert.Throws<FormatException>(() => StateRoot.Parse("xyz"));
        Assert.False(StateRoot.TryParse(new string('g', 64), out _));
    }

    [Fact]
    public void The_root_of_the_empty_state_is_fixed_so_every_peer_and_version_agrees()
    {
        // Pinned: a change here changes every chain's state roots, so it must be deliberate (bump the domain string).
        var empty = new OiscMachine(VmMode.Seed).StateRoot;
        Assert.Equal(empty, new OiscMachine(VmMode.Native).StateRoot);
        var seedFinal = new OiscMachine(VmMode.Seed);
        var height = 1L;
        foreach (var contract in SeedContracts.All)
        {
            seedFinal.ApplyBlock(height++, [new VmTransaction("", contract)]);
        }

        Assert.Equal(ExpectedRoots.Empty, empty.ToString());
        Assert.Equal(ExpectedRoots.SeedFinal, seedFinal.StateRoot.ToString());
    }

    [Fact]
    public void A_root_over_several_buckets_and_non_bmp_keys_matches_the_reference()
    {
        var ids = Enumerable.Range(0, 100).Select(i => "C" + i).Append("C\U0001F600").Append("C\uFF01").ToList();
        var vm = new OiscMachine(VmMode.Seed);
        // Insert in a scrambled order: the root must not depend on it, and growing past 32, 64 keys rebuckets.
        var order = ids.OrderBy(id => id.GetHashCode(StringComparison.Ordinal)).ToList();
        Scripts.ApplyInBlocks(vm, order.Select(id => new VmTransaction("", "{\"actions\":[{\"action\":\"add_course\",\"course\":{\"id\":\"" + id + "\"}}]}")).ToList(), 7);
        Assert.Equal(ExpectedRoots.ManyCourses, vm.StateRoot.ToString());
    }
}
