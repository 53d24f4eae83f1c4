namespace Testbed.Vm;

/// <summary>What an action sees while it runs: the state, the mode, the transaction's sender and its remaining gas.</summary>
public sealed class VmExecutionContext
{
    internal VmExecutionContext(VmState state, VmMode mode)
    {
        State = state;
        Mode = mode;
    }

    /// <summary>The state; writes through its collections are journalled and undone if the transaction fails.</summary>
    public VmState State { get; }

    /// <summary>Rule set in force.</summary>
    public VmMode Mode { get; }

    /// <summary>Sender of the running transaction.</summary>
    public string Sender { get; internal set; } = "";

    /// <summary>Steps left in the running transaction's budget.</summary>
    public long GasRemaining { get; internal set; }

    /// <summary>SUBLEQ steps run so far in the current block.</summary>
    internal long Steps { get; set; }

    /// <summary>Called before memory or registers change, so the machine can keep their prior contents for undo.</summary>
    internal Action SnapshotMachine { get; set; } = static () => { };

    /// <summary>Spends gas; refuses the transaction when the budget is exhausted.</summary>
    public void ChargeGas(long steps)
    {
        if (steps > GasRemaining)
        {
            GasRemaining = 0;
            throw new VmRejectedException("gas budget of the transaction exhausted");
        }

        GasRemaining -= steps;
    }
}
