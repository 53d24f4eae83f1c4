namespace Testbed.Vm;

/// <summary>What one write replaced: enough to put a key back exactly as it was.</summary>
internal readonly record struct UndoRecord(VmCollection Collection, string Key, bool Existed, StateEntry Previous);
