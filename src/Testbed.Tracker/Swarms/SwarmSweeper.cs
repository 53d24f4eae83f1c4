namespace Testbed.Tracker.Swarms;

/// <summary>Drops expired peers and idle swarms in the background, so torrents nobody announces to any more give their memory back.</summary>
public sealed class SwarmSweeper(SwarmStore store) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(store.Limits.PeerTimeout.TotalSeconds / 4, 1, 60));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                store.Sweep();
            }
        }
        catch (OperationCanceledException)
        {
            // Host shutdown.
        }
    }
}
