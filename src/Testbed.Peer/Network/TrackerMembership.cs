using System.Net;
using Testbed.Torrent.Trackers;

namespace Testbed.Peer.Network;

/// <summary>
/// Membership through the tracker: announces the network info hash every interval (with <c>left=1</c>: the network's
/// chain is never complete, and trackers do not tell seeders about other seeders) and hands the members it returns to
/// the swarm to dial.
/// </summary>
public sealed class TrackerMembership : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private int _successfulAnnounces;

    /// <summary>
    /// Starts announcing <paramref name="swarm"/>'s info hash and port to <paramref name="tracker"/>. With an
    /// <paramref name="advertise"/> address the tracker is asked to hand that out instead of the address it sees.
    /// </summary>
    public TrackerMembership(NetworkSwarm swarm, Uri tracker, TimeSpan interval, IPAddress? advertise, ILogger logger)
    {
        Tracker = tracker;
        var announcer = new TrackerAnnouncer([[new Uri(tracker, "announce").ToString()]], new TrackerClientOptions
        {
            MinimumInterval = interval,
            MaximumInterval = interval,
            FailureRetryInterval = TimeSpan.FromSeconds(2),
            HttpTimeout = TimeSpan.FromSeconds(10),
            RetryAttempts = 1,
        });
        _loop = Task.Run(async () =>
        {
            using (announcer)
            {
                try
                {
                    await announcer.RunAsync(
                        e => new AnnounceRequest(swarm.InfoHash, swarm.PeerId, swarm.LocalEndPoint!.Port) { Event = e, Left = 1, NumWant = 200, Address = advertise },
                        r =>
                        {
                            Interlocked.Increment(ref _successfulAnnounces);
                            LastError = null;
                            logger.LogDebug("tracker returned {Count} peers", r.Response.Peers.Count);
                            swarm.DialFound(MemberSource.Tracker, [.. r.Response.Peers.Select(p => p.EndPoint)]);
                            return ValueTask.CompletedTask;
                        },
                        error =>
                        {
                            LastError = error.Message;
                            logger.LogWarning("tracker announce failed: {Error}", error.Message);
                        },
                        _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    /// <summary>The tracker's base URL.</summary>
    public Uri Tracker { get; }

    /// <summary>Successful announces so far.</summary>
    public int SuccessfulAnnounces => Volatile.Read(ref _successfulAnnounces);

    /// <summary>The last announce's error, or null once one succeeds again.</summary>
    public string? LastError { get; private set; }

    /// <summary>Stops announcing; the announcer sends its <c>stopped</c> event on the way out (waited for at most 5 s).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            // The stopped announce is a courtesy: a tracker that does not answer does not hold up the peer's stop.
            await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _stopping.Dispose();
    }
}
