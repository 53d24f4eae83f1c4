using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Testbed.IO;
using Testbed.Torrent.Dht;
using Testbed.Torrent.Metainfo;

namespace Testbed.Cli.Commands;

/// <summary>`testbed dht --listen HOST:PORT [--bootstrap HOST:PORT ...] [--state FILE]`: a standalone DHT node until Ctrl+C.</summary>
internal static class DhtCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "IPv4 HOST:PORT for the node's UDP socket (e.g. 127.0.0.1:6881)", Required = true };
        var bootstrap = new Option<string[]>("--bootstrap") { Description = "HOST:PORT of a DHT node to start from; repeatable" };
        var state = new Option<string?>("--state") { Description = "File keeping the node's id and good nodes across restarts (written on exit and every minute)" };
        var interval = CliOptions.Integer("--status-interval", "Seconds between status lines (default 30)", 1, 86_400, 30);
        var command = new Command("dht", "Run a Mainline DHT node (BEP 5) until Ctrl+C, printing its routing table size periodically")
        {
            listen,
            bootstrap,
            state,
            interval,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var endPoint = await ParseIPv4Async(parseResult.GetValue(listen)!, "--listen", cancellationToken).ConfigureAwait(false);
            var bootstrapEndPoints = await ParseAllAsync(parseResult.GetValue(bootstrap), "--bootstrap", cancellationToken).ConfigureAwait(false);
            var statePath = parseResult.GetValue(state) is { } path ? StateFile(path) : null;
            var options = new DhtNodeOptions(endPoint)
            {
                StatePath = statePath,
                Log = line => Console.Error.WriteLine(CliErrors.OneLine(line)),
            };
            await using var node = await StartAsync(options, $"--listen {endPoint}", cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"dht: node {node.Id} listening on {node.LocalEndPoint}");
            var seconds = parseResult.GetValue(interval);
            try
            {
                // The bootstrap runs after the first line, so a caller learns the endpoint at once.
                await node.BootstrapAsync(bootstrapEndPoints, cancellationToken).ConfigureAwait(false);
                using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
                do
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"dht: node {node.Id} on {node.LocalEndPoint}: {node.RoutingTableCount} nodes in the routing table, {node.StoredInfoHashCount} info hashes stored, {node.Statistics.QueriesAnswered} queries answered, {node.Statistics.QueriesDropped} dropped"));
                }
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            Console.WriteLine($"dht: stopped with {node.RoutingTableCount} nodes{(statePath is null ? "" : $"; state saved to {Terminal.Safe(statePath)}")}");
            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>A temporary node for `torrent get --dht-bootstrap`: on the --listen address (IPv4) or any, a free port.</summary>
    public static async Task<DhtNode> StartTemporaryAsync(IPEndPoint listen, IReadOnlyList<IPEndPoint> bootstrap, CancellationToken cancellationToken)
    {
        var address = listen.AddressFamily == AddressFamily.InterNetwork ? listen.Address : IPAddress.Any;
        return await StartAsync(new DhtNodeOptions(new IPEndPoint(address, 0)) { Bootstrap = bootstrap }, $"the DHT node on {address}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds peers of <paramref name="infoHash"/> now and every 30 s, handing each new one to <paramref name="addPeer"/>, until cancelled.</summary>
    public static async Task FeedPeersAsync(DhtNode node, InfoHash infoHash, Action<IPEndPoint> addPeer, CancellationToken cancellationToken)
    {
        var seen = new HashSet<IPEndPoint>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30));
        try
        {
            do
            {
                foreach (var peer in await node.GetPeersAsync(infoHash, cancellationToken).ConfigureAwait(false))
                {
                    if (seen.Add(peer))
                    {
                        addPeer(peer);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Parses every HOST:PORT of a repeatable option as an IPv4 endpoint.</summary>
    public static async Task<List<IPEndPoint>> ParseAllAsync(string[]? texts, string option, CancellationToken cancellationToken)
    {
        var endPoints = new List<IPEndPoint>();
        foreach (var text in texts ?? [])
        {
            var endPoint = await ParseIPv4Async(text, option, cancellationToken).ConfigureAwait(false);
            if (endPoint.Port == 0)
            {
                throw new CliUsageException($"{option} '{text}': a node to contact needs a port from 1 to 65535");
            }

            endPoints.Add(endPoint);
        }

        return endPoints;
    }

    private static async Task<IPEndPoint> ParseIPv4Async(string text, string option, CancellationToken cancellationToken)
    {
        var endPoint = await TorrentCommand.ParseEndPointAsync(CliOptions.NotEmpty(text, option), option, cancellationToken).ConfigureAwait(false);
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        return address.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(address, endPoint.Port)
            : throw new CliUsageException($"{option} '{text}': the DHT node speaks IPv4 only");
    }

    private static string StateFile(string path)
    {
        CliOptions.NotEmpty(path, "--state");
        var full = Path.GetFullPath(path);
        var kind = InputFiles.KindOf(full);
        if (kind is not (FileKind.Missing or FileKind.Regular))
        {
            throw new CliUsageException($"--state {path} is {InputFiles.Describe(kind)}; name a file");
        }

        if (InputFiles.KindOf(Path.GetDirectoryName(full)!) != FileKind.Directory)
        {
            throw new CliUsageException($"--state {path}: the directory {Path.GetDirectoryName(full)} does not exist");
        }

        return full;
    }

    private static async Task<DhtNode> StartAsync(DhtNodeOptions options, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await DhtNode.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new CliUsageException($"{what}: cannot listen there: {CliErrors.Describe(e).Message}");
        }
    }
}
