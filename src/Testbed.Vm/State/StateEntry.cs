namespace Testbed.Vm;

/// <summary>One stored record: its object, a VM-maintained counter (a proposal's votes) and the owning wallet ("" when unowned).</summary>
public readonly record struct StateEntry(VmObject Value, long Counter, string Owner);
