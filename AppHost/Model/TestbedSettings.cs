using System.Globalization;
using Microsoft.Extensions.Configuration;
using Testbed.Contracts.Settings;

namespace Testbed.AppHost.Model;

/// <summary>
/// What a user may choose about the testbed: the number of peers and their difficulty. Read from the command line
/// (<c>--peers N</c>, <c>--difficulty BITS</c>) or configuration (<c>Testbed:Peers</c>, <c>Testbed:DifficultyBits</c>).
/// The headless benches also set <see cref="DirectLinks"/> and <see cref="SegmentBlocks"/>.
/// </summary>
/// <param name="Peers">Peer resources, peer-1..peer-N.</param>
/// <param name="DifficultyBits">Proof-of-work difficulty of every peer; null: the peer's default.</param>
/// <param name="MiningIntervalMs">Pause between continuously mined blocks; null: the peer's default.</param>
public sealed record TestbedSettings(int Peers, int? DifficultyBits, int? MiningIntervalMs = null)
{
    /// <summary>
    /// Peers advertise their own bind address (127.A.B.N), so they talk directly; false (the default) has them advertise
    /// 127.A.(B+1).N, where only the chaos service's fault proxy listens. For models without chaos (the headless benches).
    /// </summary>
    public bool DirectLinks { get; init; }

    /// <summary>Blocks per chain-segment torrent of every peer; null: <see cref="DefaultSegmentBlocks"/>.</summary>
    public int? SegmentBlocks { get; init; }

    /// <summary>Blocks per chain-segment torrent when nothing says otherwise: small, so scenarios' short chains catch up by segments.</summary>
    public const int DefaultSegmentBlocks = 8;

    /// <summary>The testbed a scenario's topology asks for.</summary>
    public static TestbedSettings For(Testbed.Chaos.Scenarios.Topology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return new(topology.Peers, topology.DifficultyBits, (int)topology.MiningInterval.TotalMilliseconds)
        {
            LateJoiners = topology.LateJoiners,
            DhtBootstrap = topology.DhtBootstrap,
        };
    }

    /// <summary>Peers the AppHost does not start (a scenario's <c>start</c> step, or the dashboard's Start, brings them in as new peers).</summary>
    public IReadOnlyList<string> LateJoiners { get; init; } = [];

    /// <summary>The DHT nodes a peer starts knowing, by peer name; a peer not listed learns them from its swarm peers.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> DhtBootstrap { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, IReadOnlyList<string>>.Empty;

    /// <summary>Peers when nothing says otherwise.</summary>
    public const int DefaultPeers = 4;

    /// <summary>Most peers one testbed runs (each is a process on a 2-core machine; the loopback plan allows 250).</summary>
    public const int MaxPeers = 32;

    /// <summary>
    /// Reads and checks the settings; <paramref name="error"/> names the setting that is wrong. <c>--scenario NAME</c> shapes
    /// the testbed as that scenario of <paramref name="scenariosFile"/> asks (its chaos command then runs it).
    /// </summary>
    public static bool TryRead(IConfiguration configuration, string scenariosFile, out TestbedSettings settings, out string error)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        settings = new TestbedSettings(DefaultPeers, null);
        error = "";
        if (configuration["scenario"] is { } scenario)
        {
            try
            {
                settings = For(Testbed.Chaos.Scenarios.ScenarioParser.Load(scenariosFile).Get(scenario).Topology);
                return TryReadBroken(configuration, ref settings, out error);
            }
            catch (Exception e) when (e is Testbed.Chaos.Scenarios.ScenarioParseException or KeyNotFoundException or IOException or UnauthorizedAccessException)
            {
                error = $"--scenario {scenario}: {e.Message.Trim('"')}";
                return false;
            }
        }

        var peersText = configuration["peers"] ?? configuration["Testbed:Peers"];
        var peers = DefaultPeers;
        if (peersText is not null && (!int.TryParse(peersText, NumberStyles.None, CultureInfo.InvariantCulture, out peers) || peers is < 1 or > MaxPeers))
        {
            error = $"--peers must be a whole number from 1 to {MaxPeers}, not '{peersText}'";
            return false;
        }

        int? difficulty = null;
        var difficultyText = configuration["difficulty"] ?? configuration[PeerSettings.DifficultyBits.Key];
        if (difficultyText is not null)
        {
            if (!PeerSettings.DifficultyBits.TryParse(difficultyText, out var bits, out error, option: "--difficulty"))
            {
                return false;
            }

            difficulty = (int)bits;
        }

        settings = new TestbedSettings(peers, difficulty);
        return TryReadBroken(configuration, ref settings, out error);
    }

    /// <summary>
    /// Peer name to its deliberate defects (<c>--broken peer-N=MODE[,peer-M=MODE]</c>, handed to that peer as
    /// <c>Testbed__Broken</c>): only for the tests that prove each chaos check fails on a broken peer (docs/chaos.md).
    /// Empty: every peer honest.
    /// </summary>
    public IReadOnlyDictionary<string, string> Broken { get; init; } = new Dictionary<string, string>();

    /// <summary>Reads <c>--broken</c>: peers of this testbed and modes the peer knows (<see cref="Testbed.Peer.Faults.BrokenMode"/>) only.</summary>
    private static bool TryReadBroken(IConfiguration configuration, ref TestbedSettings settings, out string error)
    {
        error = "";
        if (configuration["broken"] is not { Length: > 0 } text)
        {
            return true;
        }

        var broken = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !parts[0].StartsWith("peer-", StringComparison.Ordinal) ||
                !int.TryParse(parts[0].AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > settings.Peers)
            {
                error = $"--broken must be peer-N=MODE with N from 1 to {settings.Peers}, not '{pair}'";
                return false;
            }

            if (Testbed.Peer.Faults.BrokenMode.Named(parts[1]) is null)
            {
                error = $"--broken {parts[0]}: unknown mode '{parts[1]}'; known: {string.Join(", ", Testbed.Peer.Faults.BrokenMode.Names)}";
                return false;
            }

            broken[parts[0]] = broken.TryGetValue(parts[0], out var modes) ? $"{modes},{parts[1]}" : parts[1];
        }

        settings = settings with { Broken = broken };
        return true;
    }
}
