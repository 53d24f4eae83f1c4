namespace Testbed.Vm;

/// <summary>A decoded, validated action, ready to run against the state without parsing or allocating.</summary>
public abstract class VmAction
{
    /// <summary>The action's name as registered (the JSON "action" field).</summary>
    public abstract string Name { get; }

    /// <summary>Applies the action; throws <see cref="VmRejectedException"/> to refuse it (the machine undoes the whole transaction).</summary>
    public abstract void Execute(VmExecutionContext context);
}
