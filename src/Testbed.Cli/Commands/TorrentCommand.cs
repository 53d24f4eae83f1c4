using System.CommandLine;
using System.Globalization;
using System.Net;
using Spectre.Console;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Sessions;

namespace Testbed.Cli.Commands;

/// <summary>`testbed torrent ...`: create, inspect, seed and download torrents.</summary>
internal static class TorrentCommand
{
    public static Command Create()
    {
        var torrent = new Command("torrent", "Create, inspect, seed and download BitTorrent torrents");
        torrent.Subcommands.Add(TorrentMetainfoCommands.Create());
        torrent.Subcommands.Add(TorrentMetainfoCommands.Info());
        torrent.Subcommands.Add(Seed());
        torrent.Subcommands.Add(Get());
        return torrent;
    }

    private static Command Seed()
    {
        var file = new Argument<string>("torrent") { Description = "The .torrent file" };
        var dir = new Option<string>("--dir") { Description = "Directory holding the torrent's data", Required = true };
        var listen = new Option<string>("--listen") { Description = "HOST:PORT to accept peers on", Required = true };
        var noTrackers = new Option<bool>("--no-tracker") { Description = "Do not announce to the torrent's trackers" };
        var command = new Command("seed", "Check the data on disk, then serve it to peers until interrupted")
        {
            file,
            dir,
            listen,
            noTrackers,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var metainfo = await LoadAsync(parseResult.GetValue(file)!, cancellationToken).ConfigureAwait(false);
            // Seeding reads: the directory must exist, it is never created, and nothing in it is ever written.
            var directory = CliOptions.ExistingDirectory(parseResult.GetValue(dir), "--dir");
            var endPoint = await ParseEndPointAsync(parseResult.GetValue(listen)!, "--listen", cancellationToken).ConfigureAwait(false);
            await using var client = new TorrentClient(new TorrentClientOptions { ListenEndPoint = endPoint });
            Listen(client, endPoint);

            var session = client.Add(metainfo, directory, new TorrentSessionOptions { UseTrackers = !parseResult.GetValue(noTrackers), ReadOnly = true });
            // A missing, short or different file is a failed check (exit 1) that names it; the files stay as they were.
            await session.StartAsync(cancellationToken).ConfigureAwait(false);
            var progress = session.Progress;
            Console.WriteLine($"seeding {metainfo.InfoHash} ({progress.TotalBytes} bytes, {progress.PieceCount} pieces) on {client.LocalEndPoint}");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Console.WriteLine($"stopped; uploaded {session.Progress.BytesUploaded} bytes");
            return CliErrors.Success;
        });
        return command;
    }

    private static Command Get()
    {
        var file = new Argument<string>("torrent") { Description = "The .torrent file, or a magnet link" };
        var dir = new Option<string>("--dir") { Description = "Download directory (what is already there is checked and kept)", Required = true };
        var peers = new Option<string[]>("--peer") { Description = "HOST:PORT of a peer to connect to; repeatable" };
        var listen = new Option<string?>("--listen") { Description = "HOST:PORT to accept peers on (default: any address, a free port)" };
        var noTrackers = new Option<bool>("--no-tracker") { Description = "Do not announce to the torrent's trackers" };
        var dhtBootstrap = new Option<string[]>("--dht-bootstrap") { Description = "HOST:PORT of a DHT node: find peers through a temporary DHT node started from it; repeatable" };
        var timeout = CliOptions.Integer("--timeout", "Give up (exit 1) after this many seconds in all (default: no total limit)", 1, MaxSeconds);
        var idle = CliOptions.Integer("--idle-timeout", $"Give up (exit 1) when nothing arrives for this many seconds, saying why (default {DefaultIdleSeconds})", 1, MaxSeconds, DefaultIdleSeconds);
        var command = new Command("get", "Download a torrent, verifying every piece; exit 0 once complete")
        {
            file,
            dir,
            peers,
            listen,
            noTrackers,
            dhtBootstrap,
            timeout,
            idle,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var source = CliOptions.NotEmpty(parseResult.GetValue(file), "TORRENT");
            var dhtNodes = await DhtCommand.ParseAllAsync(parseResult.GetValue(dhtBootstrap), "--dht-bootstrap", cancellationToken).ConfigureAwait(false);
            // Every argument is checked before the download starts: the directory exists (or is created) and is writable.
            var directory = CliOptions.WritableDirectory(parseResult.GetValue(dir), "--dir");
            var listenText = parseResult.GetValue(listen);
            var endPoint = listenText is null ? new IPEndPoint(IPAddress.Any, 0) : await ParseEndPointAsync(listenText, "--listen", cancellationToken).ConfigureAwait(false);
            var peerEndPoints = new List<IPEndPoint>();
            foreach (var text in parseResult.GetValue(peers) ?? [])
            {
                peerEndPoints.Add(await ParseEndPointAsync(text, "--peer", cancellationToken).ConfigureAwait(false));
            }

            MagnetLink? magnet = null;
            TorrentMetainfo? metainfo = null;
            if (source.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
            {
                if (!MagnetLink.TryParse(source, out magnet) || magnet is null)
                {
                    throw new CliUsageException("the magnet link does not parse (magnet:?xt=urn:btih:<40 hex or 32 base32 digits>... or xt=urn:btmh:1220<64 hex digits>)");
                }
            }
            else
            {
                metainfo = await LoadAsync(source, cancellationToken).ConfigureAwait(false);
            }

            await using var client = new TorrentClient(new TorrentClientOptions { ListenEndPoint = endPoint });
            Listen(client, endPoint);

            var options = new TorrentSessionOptions { UseTrackers = !parseResult.GetValue(noTrackers) };
            TorrentSession session;
            if (magnet is not null)
            {
                session = client.AddMagnet(magnet.InfoHash, directory, options, TorrentCreateOptions.OneTierEach(magnet.Trackers), magnet.InfoHashV2);
                foreach (var peer in magnet.Peers)
                {
                    if (IPEndPoint.TryParse(peer, out var parsed) && parsed.Port != 0)
                    {
                        peerEndPoints.Add(parsed);
                    }
                }
            }
            else
            {
                session = client.Add(metainfo!, directory, options);
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (parseResult.GetValue(timeout) is { } seconds)
            {
                limit.CancelAfter(TimeSpan.FromSeconds(seconds));
            }

            await session.StartAsync(limit.Token).ConfigureAwait(false);
            foreach (var peer in peerEndPoints)
            {
                session.AddPeer(peer);
            }

            // Peers from the DHT join those given and the trackers' (the temporary node ends with the download).
            await using var dht = dhtNodes.Count > 0 ? await DhtCommand.StartTemporaryAsync(endPoint, dhtNodes, limit.Token).ConfigureAwait(false) : null;
            using var stopDht = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);
            var dhtFeed = dht is null ? Task.CompletedTask : DhtCommand.FeedPeersAsync(dht, session.InfoHash, session.AddPeer, stopDht.Token);
            var started = DateTime.UtcNow;
            var idleLimit = TimeSpan.FromSeconds(parseResult.GetValue(idle));
            using var watchdog = WatchForStall(session, idleLimit, limit);
            try
            {
                if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
                {
                    await ShowProgressBarAsync(session, limit.Token).ConfigureAwait(false);
                }
                else
                {
                    await ShowProgressLinesAsync(session, limit.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var p = session.Progress;
                var why = session.LastConnectError ?? session.LastDisconnectReason ?? session.LastTrackerError ?? (p.Peers == 0 ? "no peer to download from" : "no peer had the rest");
                var stop = watchdog.Stalled ? $"nothing arrived for {idleLimit.TotalSeconds:0} s" : $"the {parseResult.GetValue(timeout)} s timeout passed";
                throw new CliCheckFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"incomplete: {p.PiecesHave} of {p.PieceCount} pieces after {(DateTime.UtcNow - started).TotalSeconds:F1} s: {stop}; {why}"));
            }
            finally
            {
                await stopDht.CancelAsync().ConfigureAwait(false);
                await dhtFeed.ConfigureAwait(false);
            }

            var done = session.Progress;
            var elapsed = (DateTime.UtcNow - started).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"complete: {session.InfoHash} {done.TotalBytes} bytes, {done.PieceCount} pieces verified, {done.BytesDownloaded} bytes downloaded in {elapsed:F2} s into {Terminal.Safe(session.Directory)}"));
            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>Longest --timeout or --idle-timeout accepted: a week.</summary>
    private const int MaxSeconds = 7 * 24 * 3600;

    /// <summary>Seconds without a byte or a new peer before `get` gives up by default (a refused or black-holed peer ends there).</summary>
    private const int DefaultIdleSeconds = 60;

    /// <summary>Cancels <paramref name="limit"/> once the session has received nothing for <paramref name="idleLimit"/>.</summary>
    private static StallWatch WatchForStall(TorrentSession session, TimeSpan idleLimit, CancellationTokenSource limit)
    {
        var watch = new StallWatch();
        var lastBytes = -1L;
        var lastPieces = -1;
        var lastChange = DateTime.UtcNow;
        watch.Timer = new Timer(_ =>
        {
            var p = session.Progress;
            if (p.BytesDownloaded != lastBytes || p.PiecesHave != lastPieces || session.IsComplete)
            {
                (lastBytes, lastPieces, lastChange) = (p.BytesDownloaded, p.PiecesHave, DateTime.UtcNow);
            }
            else if (DateTime.UtcNow - lastChange >= idleLimit)
            {
                watch.Stalled = true;
                try
                {
                    limit.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }, null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        return watch;
    }

    private sealed class StallWatch : IDisposable
    {
        public Timer? Timer { get; set; }

        public volatile bool Stalled;

        public void Dispose() => Timer?.Dispose();
    }

    /// <summary>Binds the listening socket; a busy or foreign address is unusable input (exit 2) that names the address.</summary>
    private static void Listen(TorrentClient client, IPEndPoint endPoint)
    {
        try
        {
            client.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new CliUsageException($"cannot listen on {endPoint}: {CliErrors.Describe(e).Message}");
        }
    }

    private static async Task ShowProgressBarAsync(TorrentSession session, CancellationToken cancellationToken)
    {
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(session.InfoHash.ToHex()[..12], maxValue: 1);
                while (!session.IsComplete)
                {
                    var p = session.Progress;
                    if (p.TotalBytes > 0)
                    {
                        task.MaxValue = p.TotalBytes;
                        task.Value = p.Fraction * p.TotalBytes;
                    }

                    task.Description = $"{session.InfoHash.ToHex()[..12]} {p.Peers} peers";
                    await Task.WhenAny(session.Completion, Task.Delay(200, cancellationToken)).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                await session.Completion.ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
    }

    private static async Task ShowProgressLinesAsync(TorrentSession session, CancellationToken cancellationToken)
    {
        var last = -1;
        while (!session.IsComplete)
        {
            var p = session.Progress;
            if (p.PiecesHave != last)
            {
                last = p.PiecesHave;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"progress {p.PiecesHave}/{p.PieceCount} pieces {p.Fraction:P0} {p.BytesDownloaded} bytes down, {p.Peers} peers"));
            }

            await Task.WhenAny(session.Completion, Task.Delay(1000, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        await session.Completion.ConfigureAwait(false);
    }

    /// <summary>Loads a .torrent; any problem (missing, a directory, too large, not a torrent) is unusable input (exit 2).</summary>
    private static async Task<TorrentMetainfo> LoadAsync(string path, CancellationToken cancellationToken)
    {
        TorrentMetainfo metainfo;
        try
        {
            metainfo = await TorrentMetainfo.LoadFileAsync(CliOptions.NotEmpty(path, "TORRENT"), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MetainfoException)
        {
            throw new CliUsageException($"cannot load '{path}': {CliErrors.Describe(e).Message}");
        }

        return metainfo;
    }

    /// <summary>Parses HOST:PORT (an IP literal, [v6]:port, or a host name resolved once); throws naming the option.</summary>
    internal static async Task<IPEndPoint> ParseEndPointAsync(string text, string option, CancellationToken cancellationToken)
    {
        if (IPEndPoint.TryParse(text, out var endPoint) && text.Contains(':', StringComparison.Ordinal))
        {
            return endPoint;
        }

        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535)
        {
            try
            {
                var addresses = await Dns.GetHostAddressesAsync(text[..colon], cancellationToken).ConfigureAwait(false);
                var address = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
                if (address is not null)
                {
                    return new IPEndPoint(address, port);
                }
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ArgumentException)
            {
                throw new CliUsageException($"{option} '{text}': cannot resolve the host name ({e.Message})");
            }
        }

        throw new CliUsageException($"{option} '{text}' is not HOST:PORT (port 0 to 65535)");
    }
}
