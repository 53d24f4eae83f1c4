using System.Net;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Sessions;

namespace Testbed.Bench;

/// <summary>
/// Our side of `bench torrent`: a seeding client and a leeching client of our BitTorrent library in this process, over
/// loopback TCP; the window opens when both sessions have started (the seeder has checked its file) and closes when the
/// leecher holds every piece, checked and written.
/// </summary>
internal static class OursTransfer
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    /// <summary>Moves the whole torrent, or only its first <paramref name="warmUpBytes"/> when given (a warm-up, not measured).</summary>
    public static async Task<Transfer> RunAsync(TorrentMetainfo torrent, string source, string target, long? warmUpBytes, CancellationToken cancellationToken)
    {
        var info = torrent.Info;
        Directory.CreateDirectory(target);
        await using var seeder = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var seed = seeder.Add(info, source, new TorrentSessionOptions { UseTrackers = false }, pieceLayers: torrent.PieceLayers);
        await seed.StartAsync(cancellationToken).ConfigureAwait(false);
        await using var leecher = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var get = leecher.Add(info, target, new TorrentSessionOptions { UseTrackers = false }, pieceLayers: torrent.PieceLayers);
        await get.StartAsync(cancellationToken).ConfigureAwait(false);

        // Garbage of earlier samples is collected now, not inside this window.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var cpu0 = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        get.AddPeer(seeder.LocalEndPoint!);
        if (warmUpBytes is { } bytes)
        {
            while (get.Progress.BytesDownloaded < bytes && !get.IsComplete)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }

            return new Transfer(bytes, clock.Elapsed.TotalSeconds, 0);
        }

        await get.WaitForCompletionAsync(cancellationToken).WaitAsync(Limit, cancellationToken).ConfigureAwait(false);
        clock.Stop();
        return new Transfer(info.TotalLength, clock.Elapsed.TotalSeconds, (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds);
    }
}
