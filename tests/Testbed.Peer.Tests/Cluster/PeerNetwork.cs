namespace Testbed.Peer.Tests.Cluster;

/// <summary>A real tracker process and real peer processes on loopback, each peer with its own data directory; disposing kills them all.</summary>
public sealed class PeerNetwork : IAsyncDisposable
{
    /// <summary>Generous: the CI machine has two loaded cores.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly ITestOutputHelper _output;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "testbed-peer-tests", Guid.NewGuid().ToString("n")[..12]);
    private readonly Dictionary<string, ServiceProcess> _peers = new(StringComparer.Ordinal);
    private readonly List<ServiceProcess> _retired = [];
    private ServiceProcess? _tracker;

    private PeerNetwork(ITestOutputHelper output) => _output = output;

    /// <summary>The tracker process.</summary>
    public ServiceProcess Tracker => _tracker!;

    /// <summary>A running peer by name.</summary>
    public ServiceProcess this[string name] => _peers[name];

    /// <summary>Names of the running peers.</summary>
    public IReadOnlyList<string> Names => [.. _peers.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Starts the tracker.</summary>
    public static async Task<PeerNetwork> StartAsync(ITestOutputHelper output)
    {
        var network = new PeerNetwork(output);
        Directory.CreateDirectory(network._root);
        network._tracker = ServiceProcess.Start("tracker", ServiceProcess.ProjectDll("Testbed.Tracker"), new Dictionary<string, string>());
        await network._tracker.WaitHealthyAsync(Patience);
        return network;
    }

    /// <summary>Starts (or restarts, with the same data directory) a peer and waits until it is healthy.</summary>
    public async Task<ServiceProcess> StartPeerAsync(string name, IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["services__tracker__http__0"] = Tracker.BaseUrl.ToString().TrimEnd('/'),
            [PeerSettings.PeerName.EnvironmentVariable] = name,
            [PeerSettings.DataDir.EnvironmentVariable] = Path.Combine(_root, name),
            [PeerSettings.DifficultyBits.EnvironmentVariable] = "6",
            [PeerSettings.SegmentBlocks.EnvironmentVariable] = "8",
            [PeerSettings.AnnounceIntervalSeconds.EnvironmentVariable] = "2",
            [PeerSettings.FaultsEnabled.EnvironmentVariable] = "true",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        if (_peers.Remove(name, out var old))
        {
            _retired.Add(old);
        }

        var peer = ServiceProcess.Start(name, ServiceProcess.ProjectDll("Testbed.Peer"), environment);
        _peers[name] = peer;
        await peer.WaitHealthyAsync(Patience);
        return peer;
    }

    /// <summary>SIGKILLs a peer and leaves it out of the running peers (status waits no longer ask it).</summary>
    public void Kill(string name)
    {
        var peer = _peers[name];
        peer.KillHard();
        _peers.Remove(name);
        _retired.Add(peer);
    }

    /// <summary>GET /status of a peer.</summary>
    public async Task<JsonElement> StatusAsync(string name) => await _peers[name].Http.GetFromJsonAsync<JsonElement>("status");

    /// <summary>POST /mining {action: mine, blocks: n} and returns the mined reports.</summary>
    public async Task<JsonElement> MineAsync(string name, int blocks)
    {
        using var response = await _peers[name].Http.PostAsJsonAsync("mining", new { action = "mine", blocks });
        Assert.True(response.IsSuccessStatusCode, $"{name} POST /mining: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("mined");
    }

    /// <summary>POST /mining {action} (start or stop).</summary>
    public async Task MiningAsync(string name, string action)
    {
        using var response = await _peers[name].Http.PostAsJsonAsync("mining", new { action });
        Assert.True(response.IsSuccessStatusCode, $"{name} POST /mining {action}: {(int)response.StatusCode}");
    }

    /// <summary>Waits until a condition over every running peer's status holds.</summary>
    public async Task<Dictionary<string, JsonElement>> WaitForAsync(string what, Func<Dictionary<string, JsonElement>, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? Patience;
        Dictionary<string, JsonElement> statuses = [];
        while (true)
        {
            statuses = [];
            foreach (var name in Names)
            {
                try
                {
                    statuses[name] = await StatusAsync(name);
                }
                catch (HttpRequestException)
                {
                }
            }

            if (statuses.Count == _peers.Count && condition(statuses))
            {
                _output.WriteLine($"{what} after {deadline.Elapsed.TotalSeconds:0.0} s: {Summary(statuses)}");
                return statuses;
            }

            if (deadline.Elapsed > limit)
            {
                var tails = string.Join("\n", _peers.Values.Select(p => $"--- {p.Name}:\n{p.Tail}"));
                Assert.Fail($"not {what} within {limit.TotalSeconds} s: {Summary(statuses)}\n{tails}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Every peer is connected to every other.</summary>
    public Task WaitMeshAsync() =>
        WaitForAsync("fully connected", s => s.Values.All(v => v.GetProperty("connectedPeers").GetArrayLength() >= _peers.Count - 1));

    /// <summary>Every peer has the same tip and state root, at least at <paramref name="minHeight"/>.</summary>
    public Task<Dictionary<string, JsonElement>> WaitConvergedAsync(long minHeight) =>
        WaitForAsync($"converged at height >= {minHeight}", s =>
            s.Values.Select(v => v.GetProperty("tipHash").GetString()).Distinct().Count() == 1 &&
            s.Values.Select(v => v.GetProperty("stateRoot").GetString()).Distinct().Count() == 1 &&
            s.Values.All(v => v.GetProperty("height").GetInt64() >= minHeight));

    private static string Summary(Dictionary<string, JsonElement> statuses) =>
        string.Join("; ", statuses.Select(p =>
            $"{p.Key} h={p.Value.GetProperty("height").GetInt64()} tip={p.Value.GetProperty("tipHash").GetString()![..10]} root={p.Value.GetProperty("stateRoot").GetString()![..10]} peers={p.Value.GetProperty("connectedPeers").GetArrayLength()}"));

    /// <summary>Kills every process and removes the data directories.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var peer in _peers.Values.Concat(_retired))
        {
            await peer.DisposeAsync();
        }

        if (_tracker is not null)
        {
            await _tracker.DisposeAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
