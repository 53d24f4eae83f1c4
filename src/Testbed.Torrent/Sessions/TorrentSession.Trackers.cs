using Testbed.Torrent.Trackers;

namespace Testbed.Torrent.Sessions;

/// <summary>Announcing to the metainfo's trackers (BEP 3/12/15 through <see cref="TrackerAnnouncer"/>); peers they return are dialled.</summary>
public sealed partial class TorrentSession
{
    private TrackerAnnouncer? announcer;

    /// <summary>The last tracker error, if the last round failed on every tracker.</summary>
    public string? LastTrackerError { get; private set; }

    private async Task AnnounceLoopAsync(CancellationToken cancellationToken)
    {
        using var trackers = new TrackerAnnouncer(trackerTiers);
        announcer = trackers;
        var key = (uint)Random.Shared.Next();
        await trackers.RunAsync(
            trackerEvent => new AnnounceRequest(InfoHash, client.PeerId, client.LocalEndPoint?.Port ?? 6881)
            {
                Uploaded = Interlocked.Read(ref bytesUp),
                Downloaded = Interlocked.Read(ref bytesDown),
                Left = LeftBytes(),
                Event = trackerEvent,
                Key = key,
            },
            result =>
            {
                LastTrackerError = null;
                lock (gate)
                {
                    foreach (var peer in result.Response.Peers)
                    {
                        AddCandidateLocked(peer.EndPoint, force: false);
                    }

                    ConnectCandidatesLocked();
                }

                return ValueTask.CompletedTask;
            },
            error => LastTrackerError = error.Message,
            cancellationToken).ConfigureAwait(false);
    }

    private long LeftBytes()
    {
        lock (gate)
        {
            if (Layout is null || picker is null)
            {
                // Magnet without metadata yet: the size is unknown; BEP 3 trackers accept any positive guess.
                return 1;
            }

            long left = 0;
            for (var i = 0; i < Layout.PieceCount; i++)
            {
                if (!picker.Have[i])
                {
                    left += Layout.LengthOf(i);
                }
            }

            return left;
        }
    }

    /// <summary>Asks the trackers for more peers now (within their min interval), e.g. after all peers left.</summary>
    public void RequestTrackerAnnounce() => announcer?.RequestAnnounce();

    private void OnCompletedForTrackers() => announcer?.RequestAnnounce(TrackerEvent.Completed);
}
