using FsCheck;
using FsCheck.Xunit;

namespace Testbed.Vm.Tests;

public class PropertyTests
{
    private static readonly VmMode[] Modes = [VmMode.Native, VmMode.Seed];

    [Property(MaxTest = 60)]
    public void Replaying_a_valid_sequence_gives_equal_roots_on_fresh_machines((byte, byte, byte)[] steps, PositiveInt blockSize)
    {
        foreach (var mode in Modes)
        {
            var transactions = steps.Select(s => Scripts.Transaction(s, mode)).ToList();
            var reference = new OiscMachine(mode);
            var valid = Scripts.Accepted(reference, transactions);

            // Same valid transactions, grouped into blocks differently: every block must apply, and the roots agree.
            var grouped = new OiscMachine(mode);
            Scripts.ApplyInBlocks(grouped, valid, 1 + (blockSize.Get % 7));
            Assert.Equal(reference.StateRoot, grouped.StateRoot);
            Assert.Equal(reference.ExportStateJson(), grouped.ExportStateJson());

            // A machine restarted from a saved state half-way agrees too.
            var half = valid.Count / 2;
            var first = new OiscMachine(mode);
            Scripts.ApplyInBlocks(first, valid.Take(half).ToList(), 3);
            var restarted = OiscMachine.LoadState(first.SaveState(), mode);
            Assert.Equal(first.StateRoot, restarted.StateRoot);
            Scripts.ApplyInBlocks(restarted, valid.Skip(half).ToList(), 2, 100);
            Assert.Equal(reference.StateRoot, restarted.StateRoot);
            Assert.Equal(reference.SaveState(), restarted.SaveState());
        }
    }

    [Property(MaxTest = 60)]
    public void The_root_does_not_depend_on_the_order_of_order_free_actions(byte[] ids, int shuffleSeed)
    {
        // Distinct ids per collection and one vote per (wallet, proposal): these commute in both modes.
        var actions = new List<(string Sender, string Action)>();
        foreach (var id in ids.Distinct())
        {
            actions.Add(("aa01", $"{{\"action\":\"register_student\",\"student\":{{\"id\":\"S{id}\",\"name\":\"n{id}\"}}}}"));
            actions.Add(("aa01", $"{{\"action\":\"add_course\",\"course\":{{\"id\":\"C{id}\"}}}}"));
            actions.Add(("bb02", $"{{\"action\":\"generate_nft\",\"nft\":{{\"id\":\"N{id}\"}}}}"));
            actions.Add((Scripts.Wallets[id % 3], $"{{\"action\":\"vote_proposal\",\"proposal\":{{\"id\":\"P{id % 4}\",\"description\":\"same\"}}}}"));
        }

        var shuffled = actions.ToArray();
        new Random(shuffleSeed).Shuffle(shuffled);
        foreach (var mode in Modes)
        {
            var ordered = Build(mode, actions);
            var reordered = Build(mode, shuffled);
            Assert.Equal(ordered.StateRoot, reordered.StateRoot);
            Assert.Equal(ordered.SaveState(), reordered.SaveState());
        }

        static OiscMachine Build(VmMode mode, IEnumerable<(string Sender, string Action)> actions)
        {
            var vm = new OiscMachine(mode);
            var transactions = actions.Select(a => new VmTransaction(mode == VmMode.Native ? a.Sender : "", "{\"actions\":[" + a.Action + "]}")).ToList();
            if (mode == VmMode.Native)
            {
                // In native mode a wallet's second vote on a proposal is refused; keep the first of each.
                transactions = Scripts.Accepted(new OiscMachine(mode), transactions);
            }

            Scripts.ApplyInBlocks(vm, transactions, 5);
            return vm;
        }
    }

    [Property(MaxTest = 60)]
    public void Apply_then_undo_returns_the_exact_prior_root((byte, byte, byte)[] prefix, (byte, byte, byte)[] block, (byte, byte, byte)[] other)
    {
        foreach (var mode in Modes)
        {
            var vm = new OiscMachine(mode);
            var prefixEffects = Scripts.ApplyInBlocks(vm, Scripts.Accepted(new OiscMachine(mode), prefix.Select(s => Scripts.Transaction(s, mode))), 4);
            var root = vm.StateRoot;
            var saved = vm.SaveState();

            // A valid block on top of the prefix: find it with a scratch copy of the machine.
            var scratch = OiscMachine.LoadState(saved, mode);
            var valid = ValidOn(scratch, block.Select(s => Scripts.Transaction(s, mode)));
            var effects = vm.ApplyBlock(50, valid);
            Assert.Equal(root, effects.RootBefore);

            vm.Revert(BlockEffects.Deserialize(effects.Serialize()));
            Assert.Equal(root, vm.StateRoot);
            Assert.Equal(saved, vm.SaveState());

            // Re-apply a different block: the same as a machine that never saw the first one.
            var otherValid = ValidOn(OiscMachine.LoadState(saved, mode), other.Select(s => Scripts.Transaction(s, mode)));
            vm.ApplyBlock(50, otherValid);
            var fresh = OiscMachine.LoadState(saved, mode);
            fresh.ApplyBlock(50, otherValid);
            Assert.Equal(fresh.StateRoot, vm.StateRoot);

            // Unwind everything, newest first, back to the empty state.
            vm.Revert(vm.ApplyBlock(51, []));
            var top = fresh.StateRoot;
            Assert.Equal(top, vm.StateRoot);
            vm = OiscMachine.LoadState(saved, mode);
            for (var i = prefixEffects.Count - 1; i >= 0; i--)
            {
                vm.Revert(prefixEffects[i]);
            }

            Assert.Equal(new OiscMachine(mode).StateRoot, vm.StateRoot);
        }
    }

    [Property(MaxTest = 60)]
    public void A_failing_transaction_leaves_the_root_unchanged((byte, byte, byte)[] prefix, (byte, byte, byte)[] block, byte failure, byte position)
    {
        foreach (var mode in Modes)
        {
            var vm = new OiscMachine(mode, new VmOptions { GasPerTransaction = 20_000 });
            Scripts.ApplyInBlocks(vm, Scripts.Accepted(new OiscMachine(mode, vm.Options), prefix.Select(s => Scripts.Transaction(s, mode))), 3);
            var root = vm.StateRoot;
            var saved = vm.SaveState();
            var valid = ValidOn(OiscMachine.LoadState(saved, mode, vm.Options), block.Select(s => Scripts.Transaction(s, mode)));

            // The bad transaction does real work first (a write, a SUBLEQ run), then fails.
            var sender = mode == VmMode.Native ? "aa01" : "";
            var bad = (failure % 3) switch
            {
                0 => """{"actions":[{"action":"add_course","course":{"id":"BAD"}},{"action":"explode"}]}""",
                1 => """{"actions":[{"action":"vote_proposal","proposal":{"id":"BAD"}},{"action":"subleq","program":[""" + string.Join(",", Subleq.Multiply(3, 4)) + """]},{"action":"subleq","program":[3,3,0,0]}]}""",
                _ => """{"actions":[{"action":"generate_nft","nft":{"id":"BAD"}},{"action":"register_student","student":{"id":5}}]}""",
            };
            var at = position % (valid.Count + 1);
            valid.Insert(at, new VmTransaction(sender, bad));

            var error = Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(60, valid));
            Assert.Equal(at, error.TransactionIndex);
            Assert.Equal(root, vm.StateRoot);
            Assert.Equal(saved, vm.SaveState());
        }
    }

    private static List<VmTransaction> ValidOn(OiscMachine scratch, IEnumerable<VmTransaction> candidates)
    {
        var valid = new List<VmTransaction>();
        foreach (var transaction in candidates)
        {
            try
            {
                scratch.ApplyBlock(1, [transaction]);
                valid.Add(transaction);
            }
            catch (VmRejectedException)
            {
            }
        }

        return valid;
    }
}
