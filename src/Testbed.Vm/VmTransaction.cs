namespace Testbed.Vm;

/// <summary>A transaction as the VM sees it: the sender's wallet address (hex; empty in seed mode) and the contract JSON {"actions":[...]}.</summary>
public sealed record VmTransaction(string Sender, string ContractJson);
