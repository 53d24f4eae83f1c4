namespace Testbed.Vm;

/// <summary>Why the VM refused a transaction: which transaction and action, and a clear reason.</summary>
public sealed class VmRejectedException(int transactionIndex, int actionIndex, string reason)
    : Exception(Describe(transactionIndex, actionIndex, reason))
{
    /// <summary>Creates a rejection without a location; the machine adds the transaction and action index when it rethrows.</summary>
    public VmRejectedException(string reason)
        : this(-1, -1, reason)
    {
    }

    /// <summary>Index of the refused transaction in its block (0 for a single validated transaction), -1 if unknown.</summary>
    public int TransactionIndex { get; } = transactionIndex;

    /// <summary>Index of the failing action in its transaction, -1 when the whole transaction is at fault.</summary>
    public int ActionIndex { get; } = actionIndex;

    /// <summary>The reason, without the location prefix.</summary>
    public string Reason { get; } = reason;

    internal VmRejectedException At(int transactionIndex, int actionIndex) =>
        new(transactionIndex, ActionIndex >= 0 ? ActionIndex : actionIndex, Reason);

    private static string Describe(int transactionIndex, int actionIndex, string reason) =>
        (transactionIndex, actionIndex) switch
        {
            (< 0, < 0) => reason,
            (< 0, _) => $"action {actionIndex}: {reason}",
            (_, < 0) => $"transaction {transactionIndex}: {reason}",
            _ => $"transaction {transactionIndex}, action {actionIndex}: {reason}",
        };
}
