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
        var command = new Command("seed", "Check the data on disk, then serve it to peers until interrupted");
        command.Arguments.Add(file);
        command.Options.Add(dir);
        command.Options.Add(listen);
        command.Options.Add(noTrackers);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var metainfo = await LoadAsync(parseResult.GetValue(file)!, cancellationToken).ConfigureAwait(false);
            var endPoint = await ParseEndPointAsync(parseResult.GetValue(listen)!, "--listen", cancellationToken).ConfigureAwait(false);
            if (metainfo is null || endPoint is null)
            {
                return 2;
            }

            await using var client = new TorrentClient(new TorrentClientOptions { ListenEndPoint = endPoint });
            if (!await TryListenAsync(client, endPoint).ConfigureAwait(false))
            {
                return 2;
            }

            var session = client.Add(metainfo, parseResult.GetValue(dir)!, new TorrentSessionOptions { UseTrackers = !parseResult.GetValue(noTrackers) });
            await session.StartAsync(cancellationToken).ConfigureAwait(false);
            var progress = session.Progress;
            if (!session.IsComplete)
            {
                await Console.Error.WriteLineAsync($"error: only {progress.PiecesHave} of {progress.PieceCount} pieces in {session.Directory} match the torrent; nothing to seed in full").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine($"seeding {metainfo.InfoHash} ({progress.TotalBytes} bytes, {progress.PieceCount} pieces) on {client.LocalEndPoint}");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Console.WriteLine($"stopped; uploaded {session.Progress.BytesUploaded} bytes");
            return 0;
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
        var timeout = new Option<int?>("--timeout") { Description = "Give up (exit 1) after this many seconds" };
        var command = new Command("get", "Download a torrent, verifying every piece; exit 0 once complete");
        command.Arguments.Add(file);
        command.Options.Add(dir);
        command.Options.Add(peers);
        command.Options.Add(listen);
        command.Options.Add(noTrackers);
        command.Options.Add(timeout);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var source = parseResult.GetValue(file)!;
            var listenText = parseResult.GetValue(listen);
            var endPoint = listenText is null ? new IPEndPoint(IPAddress.Any, 0) : await ParseEndPointAsync(listenText, "--listen", cancellationToken).ConfigureAwait(false);
            var peerEndPoints = new List<IPEndPoint>();
            foreach (var text in parseResult.GetValue(peers) ?? [])
            {
                if (await ParseEndPointAsync(text, "--peer", cancellationToken).ConfigureAwait(false) is not { } peer)
                {
                    return 2;
                }

                peerEndPoints.Add(peer);
            }

            if (endPoint is null)
            {
                return 2;
            }

            await using var client = new TorrentClient(new TorrentClientOptions { ListenEndPoint = endPoint });
            if (!await TryListenAsync(client, endPoint).ConfigureAwait(false))
            {
                return 2;
            }

            var options = new TorrentSessionOptions { UseTrackers = !parseResult.GetValue(noTrackers) };
            TorrentSession session;
            if (source.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
            {
                if (!MagnetLink.TryParse(source, out var magnet) || magnet is null)
                {
                    await Console.Error.WriteLineAsync("error: the magnet link does not parse").ConfigureAwait(false);
                    return 2;
                }

                session = client.AddMagnet(magnet.InfoHash, parseResult.GetValue(dir)!, options, TorrentCreateOptions.OneTierEach(magnet.Trackers));
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
                var metainfo = await LoadAsync(source, cancellationToken).ConfigureAwait(false);
                if (metainfo is null)
                {
                    return 2;
                }

                session = client.Add(metainfo, parseResult.GetValue(dir)!, options);
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

            var started = DateTime.UtcNow;
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
            catch (OperationCanceledException)
            {
                var p = session.Progress;
                await Console.Error.WriteLineAsync($"error: incomplete: {p.PiecesHave} of {p.PieceCount} pieces after {(DateTime.UtcNow - started).TotalSeconds:F1} s ({session.LastDisconnectReason ?? session.LastTrackerError ?? "no peer had the rest"})").ConfigureAwait(false);
                return 1;
            }

            var done = session.Progress;
            var elapsed = (DateTime.UtcNow - started).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"complete: {session.InfoHash} {done.TotalBytes} bytes, {done.PieceCount} pieces verified, {done.BytesDownloaded} bytes downloaded in {elapsed:F2} s into {session.Directory}"));
            return 0;
        });
        return command;
    }

    private static async Task<bool> TryListenAsync(TorrentClient client, IPEndPoint endPoint)
    {
        try
        {
            client.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            await Console.Error.WriteLineAsync($"error: cannot listen on {endPoint}: {e.Message}").ConfigureAwait(false);
            return false;
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

    private static async Task<TorrentMetainfo?> LoadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await TorrentMetainfo.LoadFileAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            await Console.Error.WriteLineAsync($"error: cannot load '{path}': {e.Message}").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>Parses HOST:PORT (an IP literal, [v6]:port, or a host name resolved once).</summary>
    internal static async Task<IPEndPoint?> ParseEndPointAsync(string text, string option, CancellationToken cancellationToken)
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
            catch (System.Net.Sockets.SocketException)
            {
            }
        }

        await Console.Error.WriteLineAsync($"error: {option} '{text}' is not HOST:PORT").ConfigureAwait(false);
        return null;
    }
}
