using System.Text.Json.Nodes;

namespace Testbed.Bench;

/// <summary>
/// The anchor side of `bench torrent`: libtorrent (python3-libtorrent) moving the file from a seeder session to a leecher
/// session in one python process, over loopback TCP, with the same timing window as ours.
/// </summary>
internal static class LibtorrentTransfer
{
    private const string Python = "/usr/bin/python3";

    /// <summary>
    /// The driver. The measured window waits in wait_for_alert for the leecher's torrent_finished_alert, so no python
    /// polling loop runs during the transfer and the process CPU it reports is libtorrent's own (both sessions' threads).
    /// The window opens once both torrents are checked, as ours opens once both sessions have started, and closes when
    /// the last piece has passed its hash check and was handed to storage.
    /// </summary>
    private const string Script = """
        import json, resource, sys, time
        import libtorrent as lt
        torrent, source, target, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
        category = lt.alert.category_t
        base = {'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
                'enable_outgoing_utp': False, 'enable_incoming_utp': False, 'allow_multiple_connections_per_ip': True,
                'alert_mask': int(category.status_notification | category.error_notification | category.storage_notification)}
        seeder = lt.session(dict(base, listen_interfaces='127.0.0.1:0'))
        leecher = lt.session(dict(base, listen_interfaces='127.0.0.1:0'))
        failures = (lt.torrent_error_alert, lt.file_error_alert, lt.hash_failed_alert)

        def fail(what, **extra):
            print(json.dumps(dict(extra, error=what)))
            sys.exit(1)

        def wait_for(session, kind, until):
            # Sleeps in wait_for_alert until an alert of `kind` arrives; any failure alert ends the run.
            while True:
                left = until - time.monotonic()
                if left <= 0:
                    return None
                if session.wait_for_alert(int(min(left, 1.0) * 1000) + 1) is None:
                    continue
                for alert in session.pop_alerts():
                    if isinstance(alert, failures):
                        fail(alert.message())
                    if isinstance(alert, kind):
                        return alert

        deadline = time.monotonic() + limit
        seed = seeder.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': source})
        if wait_for(seeder, lt.torrent_checked_alert, deadline) is None or not seed.status().is_seeding:
            fail('the seeder did not finish checking the source file as complete')
        get = leecher.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': target})
        if wait_for(leecher, lt.torrent_checked_alert, deadline) is None:
            fail('the leecher did not finish checking its empty target')

        def cpu():
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        cpu0, t0 = cpu(), time.perf_counter()
        get.connect_peer(('127.0.0.1', seeder.listen_port()))
        if wait_for(leecher, lt.torrent_finished_alert, deadline) is None:
            fail('timeout', progress=get.status().progress)
        seconds, cpu_seconds = time.perf_counter() - t0, cpu() - cpu0
        print(json.dumps({'seconds': seconds, 'cpu': cpu_seconds, 'version': lt.__version__}))
        """;

    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    /// <summary>libtorrent's version, or null when /usr/bin/python3 cannot import it.</summary>
    public static async Task<string?> VersionAsync(CancellationToken cancellationToken)
    {
        var output = await ToolRun.StdoutAsync(Python, ["-c", "import libtorrent; print(libtorrent.__version__)"], TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false);
        var version = output?.Trim();
        return string.IsNullOrEmpty(version) ? null : version;
    }

    /// <summary>One transfer of <paramref name="torrentFile"/> from <paramref name="source"/> into a fresh <paramref name="target"/>.</summary>
    public static async Task<Transfer> RunAsync(string scriptDirectory, string torrentFile, long bytes, string source, string target, CancellationToken cancellationToken)
    {
        var script = Path.Combine(scriptDirectory, "lt_bench.py");
        if (!File.Exists(script))
        {
            await File.WriteAllTextAsync(script, Script, cancellationToken).ConfigureAwait(false);
        }

        Directory.CreateDirectory(target);
        var limit = Limit.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        var output = await ToolRun.RunAsync(Python, [script, torrentFile, source, target, limit], Limit + TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"the libtorrent run did not end within {Limit.TotalMinutes + 1:0} minutes");
        var line = output.Stdout.Trim().Split('\n')[^1];
        if (output.ExitCode != 0 || string.IsNullOrEmpty(line))
        {
            throw new InvalidOperationException($"the libtorrent run failed (exit {output.ExitCode}): {line} {output.Stderr.Trim()}");
        }

        var result = JsonNode.Parse(line)!;
        return new Transfer(bytes, (double)result["seconds"]!, (double)result["cpu"]!);
    }
}
