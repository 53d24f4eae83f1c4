namespace Testbed.Ledger.Tests.Chain;

/// <summary>Whatever the branch lengths and arrival order, a peer ends on the branch with more work, with its state.</summary>
public sealed class ForkChoicePropertyTests
{
    private static readonly Wallet Alice = Wallet.CreateEphemeral();
    private static readonly Wallet Bob = Wallet.CreateEphemeral();

    [Property(MaxTest = 8)]
    public bool Peer_follows_the_heavier_branch_with_its_state(byte lengthA, byte lengthB, bool bFirst)
    {
        var a = 1 + (lengthA % 6);
        var b = 1 + (lengthB % 6);
        using var peerA = new TestChain(peer: "prop-a");
        using var peerB = new TestChain(peer: "prop-b");
        using var observer = new TestChain(peer: "prop-observer");
        var branchA = Enumerable.Range(0, a).Select(i => peerA.MineAndAdd(Alice, Forge.Vote(Alice, i, "A" + i)).Token).ToList();
        var branchB = Enumerable.Range(0, b).Select(i => peerB.MineAndAdd(Bob, Forge.Student(Bob, i, "B" + i)).Token).ToList();

        var order = bFirst ? branchB.Concat(branchA) : branchA.Concat(branchB);
        if (!order.All(token => observer.Chain.AddBlock(token).Accepted))
        {
            return false;
        }

        // Equal work: the branch that arrived first stays.
        var winner = a > b ? peerA : b > a ? peerB : bFirst ? peerB : peerA;
        return observer.Chain.Tip == winner.Chain.Tip
            && observer.Chain.ExportStateJson() == winner.Chain.ExportStateJson()
            && observer.Chain.CheckConsistency(deep: false).Count == 0;
    }
}
