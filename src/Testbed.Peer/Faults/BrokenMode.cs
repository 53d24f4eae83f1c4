using Testbed.Contracts.Settings;
using Testbed.Ledger.Chain;

namespace Testbed.Peer.Faults;

/// <summary>
/// One mode of the broken-peer mode (<c>Testbed:Broken</c>, comma-separated; off unless set): a deliberate defect, one per
/// invariant the chaos checker verifies, so that each check is shown to fail on a broken peer before its pass on honest peers
/// is believed (docs/chaos.md). Unlike the fault hooks these are bugs, not attacks: the peer does not know it is wrong, and it
/// says in /status which defects it runs with so nobody mistakes such a run for a real one.
/// </summary>
/// <param name="Name">The mode's name in <c>Testbed:Broken</c>, <c>--broken</c> and /status.</param>
/// <param name="ChainDefect">The chain's share of the defect (<see cref="ChainDefects.None"/> when it lies outside the chain).</param>
public sealed record BrokenMode(string Name, ChainDefects ChainDefect)
{
    /// <summary>Accepts blocks whoever signed them (caught by no-invalid-block-accepted).</summary>
    public static BrokenMode SkipSignatureCheck { get; } = new("skip-signature-check", ChainDefects.SkipSignatureCheck);

    /// <summary>Forgets its newest block at every start (caught by no-acknowledged-block-lost).</summary>
    public static BrokenMode LoseLastBlock { get; } = new("lose-last-block", ChainDefects.LoseLastBlock);

    /// <summary>Its live VM state drifts after every reorganisation (caught by converged expectations and chain-consistent).</summary>
    public static BrokenMode CorruptStateAfterReorg { get; } = new("corrupt-state-after-reorg", ChainDefects.CorruptStateAfterReorg);

    /// <summary>Answers mine requests with blocks it then drops, neither stored nor announced (caught by height-grows-with-majority).</summary>
    public static BrokenMode StopMiningSilently { get; } = new("stop-mining-silently", ChainDefects.None);

    /// <summary>Every mode, in the order of the documentation.</summary>
    public static IReadOnlyList<BrokenMode> All { get; } = [SkipSignatureCheck, LoseLastBlock, CorruptStateAfterReorg, StopMiningSilently];

    /// <summary>The name of every mode, in the order of the documentation.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(m => m.Name)];

    /// <summary>The mode named <paramref name="name"/>, or null when there is none.</summary>
    public static BrokenMode? Named(string name) => All.FirstOrDefault(m => m.Name == name);

    /// <summary>Parses a comma-separated list; empty or null is none. Throws <see cref="ArgumentException"/> naming an unknown mode.</summary>
    public static IReadOnlyList<BrokenMode> Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var modes = new List<BrokenMode>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var mode = Named(name)
                ?? throw new ArgumentException($"{PeerSettings.Broken.Key}: unknown mode '{(name.Length > 40 ? name[..40] + "..." : name)}'; known: {string.Join(", ", Names)}");
            if (!modes.Contains(mode))
            {
                modes.Add(mode);
            }
        }

        return modes;
    }

    /// <summary>The chain's share of the defects.</summary>
    public static ChainDefects ChainDefectsOf(IEnumerable<BrokenMode> modes)
    {
        ArgumentNullException.ThrowIfNull(modes);
        return modes.Aggregate(ChainDefects.None, (defects, mode) => defects | mode.ChainDefect);
    }
}
