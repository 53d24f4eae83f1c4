namespace Testbed.Vm;

/// <summary>One key written as a whole: back to what it held before a block (a revert) or to what a block left (a redo).</summary>
internal readonly record struct KeyWrite(string Collection, string? CounterField, string Key, bool Exists, StateEntry Value);
