namespace Testbed.Vm;

/// <summary>Which rule set the VM applies: the seed document's rules exactly, or the signed-sender native rules.</summary>
public enum VmMode
{
    /// <summary>Signed-sender rules: a wallet votes once per proposal, an NFT belongs to its minter, a duplicate id is rejected.</summary>
    Native,

    /// <summary>The seed document's rules exactly: every vote counts, a later registration overwrites an earlier one.</summary>
    Seed,
}
