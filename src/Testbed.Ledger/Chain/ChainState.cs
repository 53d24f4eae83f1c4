using Testbed.Ledger.Consensus;
using Testbed.Ledger.Storage;
using Testbed.Vm;

namespace Testbed.Ledger.Chain;

/// <summary>
/// The chain's in-memory state: every block of every branch, the best tip, the VM state at that tip and the senders' next
/// nonces. One lock (<see cref="Gate"/>) guards all of it, because the tip, the VM and the nonces change together and no
/// reader may see one of them without the others.
/// </summary>
internal sealed class ChainState
{
    public ChainState(NetworkConfig network, VmOptions? vmOptions)
    {
        Network = network;
        Vm = new OiscMachine(VmMode.Native, vmOptions);
        var header = Genesis.Header(network, ToHash(Vm.StateRoot));
        GenesisEntry = new ChainEntry(header.ComputeHash(), header, header.Work, null, StoredBlockStatus.Valid) { OnMain = true };
        Tip = GenesisEntry;
    }

    /// <summary>The chain's single lock: everything below is read and written only while it is held (or before the chain is shared, at open).</summary>
    public Lock Gate { get; } = new();

    public NetworkConfig Network { get; }

    public Dictionary<Hash256, ChainEntry> Index { get; } = [];

    public Dictionary<string, long> NextNonces { get; } = new(StringComparer.Ordinal);

    public ChainEntry GenesisEntry { get; }

    public ChainEntry Tip { get; set; }

    /// <summary>The VM at the best tip; replaced by the stored state when the chain is loaded.</summary>
    public OiscMachine Vm { get; set; }

    /// <summary>The state root of the live VM (equal to the tip's unless the state drifted).</summary>
    public Hash256 LiveStateRoot => ToHash(Vm.StateRoot);

    public static Hash256 ToHash(StateRoot root) => new(root.ToArray());

    /// <summary>The difficulty a block on top of the given block must carry.</summary>
    public uint ExpectedDifficulty(ChainEntry parent) =>
        DifficultyRetarget.Next(Network, parent.Height, parent.Header.DifficultyBits, height => Ancestor(parent, height).Header.TimestampMs);

    public static bool IsDescendant(ChainEntry candidate, ChainEntry ancestor)
    {
        for (var e = candidate.Parent; e is not null && e.Height >= ancestor.Height; e = e.Parent)
        {
            if (e == ancestor)
            {
                return true;
            }
        }

        return false;
    }

    private static ChainEntry Ancestor(ChainEntry from, long height)
    {
        var e = from;
        while (e.Height > height)
        {
            e = e.Parent!;
        }

        return e;
    }
}
