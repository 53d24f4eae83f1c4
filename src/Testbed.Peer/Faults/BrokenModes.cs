using Testbed.Contracts.Settings;
using Testbed.Ledger.Chain;

namespace Testbed.Peer.Faults;

/// <summary>
/// The broken-peer mode (<c>Testbed:Broken</c>, comma-separated; off unless set): deliberate defects, one per invariant the
/// chaos checker verifies, so that each check is shown to fail on a broken peer before its pass on honest peers is believed
/// (docs/chaos.md). Unlike the fault hooks these are bugs, not attacks: the peer does not know it is wrong, and it says in
/// /status which defects it runs with so nobody mistakes such a run for a real one.
/// </summary>
public static class BrokenModes
{
    /// <summary>Accepts blocks whoever signed them (caught by no-invalid-block-accepted).</summary>
    public const string SkipSignatureCheck = "skip-signature-check";

    /// <summary>Forgets its newest block at every start (caught by no-acknowledged-block-lost).</summary>
    public const string LoseLastBlock = "lose-last-block";

    /// <summary>Its live VM state drifts after every reorganisation (caught by converged expectations and chain-consistent).</summary>
    public const string CorruptStateAfterReorg = "corrupt-state-after-reorg";

    /// <summary>Answers mine requests with blocks it then drops, neither stored nor announced (caught by height-grows-with-majority).</summary>
    public const string StopMiningSilently = "stop-mining-silently";

    /// <summary>Every mode, in the order of the documentation.</summary>
    public static readonly IReadOnlyList<string> Names = [SkipSignatureCheck, LoseLastBlock, CorruptStateAfterReorg, StopMiningSilently];

    /// <summary>Parses a comma-separated list; empty or null is none. Throws <see cref="ArgumentException"/> naming an unknown mode.</summary>
    public static IReadOnlyList<string> Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var modes = new List<string>();
        foreach (var mode in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Names.Contains(mode))
            {
                throw new ArgumentException($"{PeerSettings.Broken.Key}: unknown mode '{(mode.Length > 40 ? mode[..40] + "..." : mode)}'; known: {string.Join(", ", Names)}");
            }

            if (!modes.Contains(mode))
            {
                modes.Add(mode);
            }
        }

        return modes;
    }

    /// <summary>The chain's share of the defects.</summary>
    public static ChainDefects ChainDefectsOf(IReadOnlyList<string> modes)
    {
        ArgumentNullException.ThrowIfNull(modes);
        var defects = ChainDefects.None;
        defects |= modes.Contains(SkipSignatureCheck) ? ChainDefects.SkipSignatureCheck : ChainDefects.None;
        defects |= modes.Contains(LoseLastBlock) ? ChainDefects.LoseLastBlock : ChainDefects.None;
        defects |= modes.Contains(CorruptStateAfterReorg) ? ChainDefects.CorruptStateAfterReorg : ChainDefects.None;
        return defects;
    }
}
