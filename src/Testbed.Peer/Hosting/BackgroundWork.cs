using System.Collections.Concurrent;

namespace Testbed.Peer.Hosting;

/// <summary>
/// Work a component starts in the background (a block receive, a segment offer) and its stop waits for: every task gets
/// the stop token, a failure is logged rather than lost, and none outlives the component, so nothing touches the chain or
/// the torrent client after they are disposed.
/// </summary>
public sealed class BackgroundWork(string owner, ILogger logger) : IAsyncDisposable
{
    /// <summary>How long a stop waits for cancelled work to end (a chain write in progress is not cancellable).</summary>
    public static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Runs <paramref name="work"/> on the thread pool with the stop token; ignored once stopping.</summary>
    public void Run(Func<CancellationToken, Task> work)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        var token = _stopping.Token;
        var task = Task.Run(async () =>
        {
            try
            {
                await work(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogWarning(e, "{Owner}: background work failed", owner);
            }
        }, CancellationToken.None);
        _running.TryAdd(task, 0);
        // Registered after the add, so a task that already ended is removed too.
        task.ContinueWith(done => _running.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Cancels the work and waits for it (at most <see cref="StopPatience"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Keys).WaitAsync(StopPatience).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("{Owner}: {Count} background tasks still running after {Seconds} s", owner, _running.Count, StopPatience.TotalSeconds);
        }

        _stopping.Dispose();
    }
}
