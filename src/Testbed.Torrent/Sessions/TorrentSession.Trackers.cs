namespace Testbed.Torrent.Sessions;

/// <summary>Announcing to the metainfo's trackers.</summary>
public sealed partial class TorrentSession
{
    private string trackerEvent = "started";

    private Task AnnounceLoopAsync(CancellationToken cancellationToken)
    {
        _ = trackerEvent;
        return Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
