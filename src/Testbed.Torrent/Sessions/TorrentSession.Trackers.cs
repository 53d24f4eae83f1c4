using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Trackers;

namespace Testbed.Torrent.Sessions;

/// <summary>Announcing to the metainfo's trackers (BEP 3/12/15 through <see cref="TrackerAnnouncer"/>); peers they return are dialled.</summary>
public sealed partial class TorrentSession
{
    private readonly List<TrackerAnnouncer> _announcers = [];

    /// <summary>The last tracker error, if the last round failed on every tracker.</summary>
    public string? LastTrackerError { get; private set; }

    /// <summary>Announces under the info hash and, for a hybrid, under the truncated v2 hash too (both swarms, BEP 52).</summary>
    private Task AnnounceLoopAsync(CancellationToken cancellationToken) =>
        InfoHashV2Truncated is { } v2 && v2 != InfoHash
            ? Task.WhenAll(AnnounceLoopAsync(InfoHash, cancellationToken), AnnounceLoopAsync(v2, cancellationToken))
            : AnnounceLoopAsync(InfoHash, cancellationToken);

    private async Task AnnounceLoopAsync(InfoHash infoHash, CancellationToken cancellationToken)
    {
        using var trackers = new TrackerAnnouncer(_trackerTiers);
        lock (_announcers)
        {
            _announcers.Add(trackers);
        }

        try
        {
            var key = (uint)Random.Shared.Next();
            await trackers.RunAsync(
                trackerEvent => new AnnounceRequest(infoHash, _client.PeerId, _client.LocalEndPoint?.Port ?? 6881)
                {
                    Uploaded = Interlocked.Read(ref _bytesUp),
                    Downloaded = Interlocked.Read(ref _bytesDown),
                    Left = LeftBytes(),
                    Event = trackerEvent,
                    Key = key,
                },
                result =>
                {
                    LastTrackerError = null;
                    lock (_gate)
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
        finally
        {
            lock (_announcers)
            {
                _announcers.Remove(trackers);
            }
        }
    }

    private long LeftBytes()
    {
        lock (_gate)
        {
            if (Layout is null || _picker is null)
            {
                // Magnet without metadata yet: the size is unknown; BEP 3 trackers accept any positive guess.
                return 1;
            }

            long left = 0;
            for (var i = 0; i < Layout.PieceCount; i++)
            {
                if (!_picker.Have[i])
                {
                    left += Layout.LengthOf(i);
                }
            }

            return left;
        }
    }

    /// <summary>Asks the trackers for more peers now (within their min interval), e.g. after all peers left.</summary>
    public void RequestTrackerAnnounce() => ForEachAnnouncer(a => a.RequestAnnounce());

    private void OnCompletedForTrackers() => ForEachAnnouncer(a => a.RequestAnnounce(TrackerEvent.Completed));

    private void ForEachAnnouncer(Action<TrackerAnnouncer> action)
    {
        lock (_announcers)
        {
            foreach (var announcer in _announcers)
            {
                action(announcer);
            }
        }
    }
}
