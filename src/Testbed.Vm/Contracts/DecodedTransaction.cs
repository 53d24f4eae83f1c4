namespace Testbed.Vm;

/// <summary>A transaction whose contract has been parsed and validated into actions, so replaying it does no JSON work.</summary>
public sealed class DecodedTransaction
{
    internal DecodedTransaction(string sender, VmAction[] actions, VmMode mode, int memoryWords)
    {
        Sender = sender;
        ActionArray = actions;
        Mode = mode;
        MemoryWords = memoryWords;
    }

    /// <summary>The rule set it was decoded (and validated) for.</summary>
    public VmMode Mode { get; }

    /// <summary>The memory size its SUBLEQ actions were checked against.</summary>
    public int MemoryWords { get; }

    /// <summary>The sender's wallet address.</summary>
    public string Sender { get; }

    /// <summary>The decoded actions, in order.</summary>
    public IReadOnlyList<VmAction> Actions => ActionArray;

    internal VmAction[] ActionArray { get; }
}
