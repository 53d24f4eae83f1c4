namespace Testbed.Vm;

/// <summary>Action name to operation, like the seed's <c>register_operation</c>: registering a name again replaces it. Every peer must register the same operations.</summary>
public sealed class OperationRegistry
{
    private readonly Dictionary<string, IVmOperation> _operations = new(StringComparer.Ordinal);

    /// <summary>Names of every registered operation, sorted.</summary>
    public IReadOnlyList<string> Names => [.. _operations.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The built-in operations of a mode: the seed's four, plus subleq, plus transfer_nft in native mode.</summary>
    public static OperationRegistry CreateDefault(VmMode mode)
    {
        var registry = new OperationRegistry();
        registry.Register("register_student", new RecordOperation("register_student", "student", VmState.StudentsName, owned: false));
        registry.Register("add_course", new RecordOperation("add_course", "course", VmState.CoursesName, owned: false));
        registry.Register("vote_proposal", new VoteProposalOperation());
        registry.Register("generate_nft", new RecordOperation("generate_nft", "nft", VmState.NftsName, owned: true));
        registry.Register(SubleqOperation.ActionName, new SubleqOperation());
        if (mode == VmMode.Native)
        {
            registry.Register("transfer_nft", new TransferNftOperation());
        }

        return registry;
    }

    /// <summary>Registers (or replaces) the operation run for <paramref name="actionName"/>.</summary>
    public void Register(string actionName, IVmOperation operation)
    {
        ArgumentException.ThrowIfNullOrEmpty(actionName);
        ArgumentNullException.ThrowIfNull(operation);
        _operations[actionName] = operation;
    }

    /// <summary>Finds the operation for an action name.</summary>
    public bool TryGet(string actionName, out IVmOperation operation) => _operations.TryGetValue(actionName, out operation!);
}
