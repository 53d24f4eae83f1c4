using Microsoft.AspNetCore.Builder;

namespace Microsoft.Extensions.Hosting;

/// <summary>How every testbed service runs to its end and what its exit code says.</summary>
public static class ServiceRun
{
    /// <summary>Exit code for an unusable setting, as for every testbed program's unusable input.</summary>
    public const int UnusableSetting = 2;

    /// <summary>
    /// Runs the service until it is told to stop. Returns 0, or <see cref="UnusableSetting"/> with one line on stderr naming
    /// an unusable setting (an <see cref="ArgumentException"/> from start-up). A stop asked for while the service was still
    /// starting (Ctrl+C, the AppHost stopping the resource or dying) ends it with 0, not with an unhandled cancellation.
    /// </summary>
    public static async Task<int> RunServiceAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return 0;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return UnusableSetting;
        }
    }
}
