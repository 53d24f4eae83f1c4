using System.Net;

namespace Testbed.Torrent.Sessions;

/// <summary>
/// Noticing that an unfinished download has lost every source: a caller that knows other sources (another peer that has
/// the content) should try them now rather than wait out its whole download timeout for a peer that is gone.
/// </summary>
public sealed partial class TorrentSession
{
    /// <summary>Most distinct sources counted for the "its only source" wording (the count is for the message only).</summary>
    private const int MaxCountedSources = 1000;

    private readonly HashSet<IPEndPoint> _sourcesSeen = [];
    private TaskCompletionSource<string> _sourcesLost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes, with the reason, when the download is unfinished, no connected peer has (or may still announce) a piece
    /// we lack, and nobody is being dialled: every source's connection closed or could not be made. A peer added or
    /// connecting afterwards starts a new wait (read the property again).
    /// </summary>
    public Task<string> SourcesLost
    {
        get
        {
            lock (_gate)
            {
                return _sourcesLost.Task;
            }
        }
    }

    /// <summary>
    /// Waits until the download is complete and verified; throws <see cref="TorrentSourcesLostException"/> as soon as no
    /// source is left (see <see cref="SourcesLost"/>). A source that stays connected but sends nothing is not lost: bound
    /// this wait with a timeout for that.
    /// </summary>
    public async Task WaitForDownloadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var lost = SourcesLost;
            await Task.WhenAny(_completed.Task, lost).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (_completed.Task.IsCompleted)
            {
                await _completed.Task.ConfigureAwait(false);
                return;
            }

            if (ReferenceEquals(lost, SourcesLost))
            {
                throw new TorrentSourcesLostException(InfoHash, Info?.Name, await lost.ConfigureAwait(false));
            }

            // A source was added after that loss: the download goes on.
        }
    }

    private void CountSourceLocked(IPEndPoint endPoint)
    {
        if (_sourcesSeen.Count < MaxCountedSources)
        {
            _sourcesSeen.Add(endPoint);
        }

        if (_sourcesLost.Task.IsCompleted)
        {
            _sourcesLost = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>After a connection ended or a dial failed: declares the sources lost when nothing is left to wait for.</summary>
    private void CheckSourcesLeftLocked(IPEndPoint who, string what)
    {
        if (Volatile.Read(ref _started) == 0 || Volatile.Read(ref _disposed) == 1 || _completed.Task.IsCompleted || _sourcesLost.Task.IsCompleted)
        {
            return;
        }

        if (_peers.Any(MayDeliverLocked))
        {
            return;
        }

        // Another known peer that may be dialled now is still a chance.
        ConnectCandidatesLocked();
        if (_connecting.Count > 0)
        {
            return;
        }

        var reason = _sourcesSeen.Count <= 1
            ? $"its only source {who} {what}"
            : $"none of its {_sourcesSeen.Count} sources is left (the last, {who}, {what})";
        _downloadActivity?.AddEvent(new System.Diagnostics.ActivityEvent("torrent.sources_lost", tags: new System.Diagnostics.ActivityTagsCollection { ["reason"] = reason }));
        _sourcesLost.TrySetResult(reason);
    }

    /// <summary>A peer that has a piece we lack, or has not told us yet what it has.</summary>
    private bool MayDeliverLocked(SessionPeer conn) =>
        _picker is null || conn.PeerHas is null || _picker.IsInteresting(conn.PeerHas);
}
