namespace Testbed.Vm;

/// <summary>A transaction whose contract has been parsed and validated into actions, so replaying it does no JSON work.</summary>
public sealed class DecodedTransaction
{
    internal DecodedTransaction(string sender, VmAction[] actions)
    {
        Sender = sender;
        ActionArray = actions;
    }

    /// <summary>The sender's wallet address.</summary>
    public string Sender { get; }

    /// <summary>The decoded actions, in order.</summary>
    public IReadOnlyList<VmAction> Actions => ActionArray;

    internal VmAction[] ActionArray { get; }
}
