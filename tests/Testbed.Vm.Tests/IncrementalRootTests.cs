using System.Globalization;

namespace Testbed.Vm.Tests;

/// <summary>
/// The root is kept incrementally (only changed buckets are rehashed, from leaf bytes kept per bucket); these tests
/// hold it to the from-scratch definition and to roots pinned with the earlier implementation, which rehashed every
/// key of a changed bucket from the entries, across bucket-count changes up and down, reverts and failed blocks.
/// </summary>
public class IncrementalRootTests
{
    // Pinned with the implementation before the per-bucket leaf buffers (commit 5c2de52).
    private const string GrowthRoot = "44a840f0cf0a74bd4f6861c993beb680c8c77bfdfca71dbfaa88fa77061f7566";
    private const string BeyondCapRoot = "aa316b1739375131854145fb239825babcd260d6dca078bf52e46aa0034dbe05";

    [Fact]
    public void A_growing_and_shrinking_native_state_has_the_from_scratch_root_after_every_block()
    {
        var vm = new OiscMachine(VmMode.Native);
        var effects = new List<BlockEffects>();
        for (var block = 0; block < 24; block++)
        {
            effects.Add(vm.ApplyBlock(block + 1, MixBlock(block * 500L, 500, withSubleq: block % 6 == 5)));
            Assert.Equal(FromScratchRoot.Of(vm.State), vm.StateRoot.ToString());
        }

        // 2,400 students: 128 buckets (the count doubled from 1 through 64 on the way).
        Assert.Equal(2400, vm.State.Students.Count);
        Assert.Equal(GrowthRoot, vm.StateRoot.ToString());

        // A failing block (a duplicate id after real writes) leaves the root as it was.
        var before = vm.StateRoot;
        var failing = MixBlock(24 * 500L, 300, withSubleq: true).Append(new VmTransaction(Wallet(1), Student("S1"))).ToList();
        Assert.Throws<VmRejectedException>(() => vm.ApplyBlock(25, failing));
        Assert.Equal(before, vm.StateRoot);
        Assert.Equal(FromScratchRoot.Of(vm.State), vm.StateRoot.ToString());

        // Undo the newest ten blocks: the bucket counts halve again (1,400 students: 64 buckets).
        for (var i = effects.Count - 1; i >= 14; i--)
        {
            vm.Revert(BlockEffects.Deserialize(effects[i].Serialize()));
            Assert.Equal(effects[i].RootBefore, vm.StateRoot);
            Assert.Equal(FromScratchRoot.Of(vm.State), vm.StateRoot.ToString());
        }

        Assert.Equal(1400, vm.State.Students.Count);
        Assert.Equal(OiscMachine.LoadState(vm.SaveState(), VmMode.Native).StateRoot, vm.StateRoot);
    }

    [Fact]
    public void A_collection_beyond_the_bucket_cap_has_the_from_scratch_root()
    {
        // 4096 buckets of 32 keys hold 131,072 keys; past that the buckets grow instead.
        var vm = new OiscMachine(VmMode.Seed);
        const int perTransaction = 250;
        var next = 0;
        for (var block = 0; block < 6; block++)
        {
            var transactions = new List<VmTransaction>();
            for (var t = 0; t < 90; t++)
            {
                var actions = Enumerable.Range(next, perTransaction).Select(i => StudentAction("K" + i.ToString(CultureInfo.InvariantCulture)));
                transactions.Add(new VmTransaction("", "{\"actions\":[" + string.Join(",", actions) + "]}"));
                next += perTransaction;
            }

            vm.ApplyBlock(block + 1, transactions);
        }

        Assert.Equal(135_000, vm.State.Students.Count);
        Assert.Equal(FromScratchRoot.Of(vm.State), vm.StateRoot.ToString());
        Assert.Equal(BeyondCapRoot, vm.StateRoot.ToString());
    }

    /// <summary>
    /// The bench's mix, smaller: a wallet per transaction, students, courses, votes on 50 proposals (new ballots),
    /// NFTs minted then transferred (to a 2-digit wallet every other time, so an owner's length changes), ids with
    /// non-ASCII and non-BMP characters now and then, and a SUBLEQ run when asked.
    /// </summary>
    private static List<VmTransaction> MixBlock(long first, int count, bool withSubleq)
    {
        var block = new List<VmTransaction>();
        for (var n = first; n < first + count; n++)
        {
            var g = n / 5;
            var id = (g % 7 == 0 ? "É" : g % 11 == 0 ? "𝄞" : "") + g.ToString(CultureInfo.InvariantCulture);
            var contract = (n % 5) switch
            {
                0 => Student("S" + id),
                1 => "{\"actions\":[{\"action\":\"add_course\",\"course\":{\"id\":\"C" + id + "\",\"name\":\"c\"}}]}",
                2 => "{\"actions\":[{\"action\":\"vote_proposal\",\"proposal\":{\"id\":\"P" + (g % 50).ToString(CultureInfo.InvariantCulture) + "\",\"d\":\"x\"}}]}",
                3 => "{\"actions\":[{\"action\":\"generate_nft\",\"nft\":{\"id\":\"N" + id + "\",\"meta\":{\"b\":[1,2],\"a\":\"é\"}}}]}",
                _ => "{\"actions\":[{\"action\":\"transfer_nft\",\"id\":\"N" + id + "\",\"to\":\"" + (g % 2 == 0 ? "ab" : Wallet(g + 1_000_000)) + "\"}]}",
            };
            block.Add(new VmTransaction(Wallet(g), contract));
        }

        if (withSubleq)
        {
            block.Add(new VmTransaction(Wallet(first), Subleq.Contract(Subleq.Multiply(first % 97, 3))));
        }

        return block;
    }

    private static string Student(string id) => "{\"actions\":[" + StudentAction(id) + "]}";

    private static string StudentAction(string id) => "{\"action\":\"register_student\",\"student\":{\"id\":\"" + id + "\",\"name\":\"n\"}}";

    private static string Wallet(long n) => n.ToString("x64", CultureInfo.InvariantCulture);
}
