using System.Diagnostics;

namespace Testbed.Inspector.Tests;

/// <summary>Waits by polling, never by sleeping a fixed time; every wait has a timeout and says what it waited for.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(45);

    /// <summary>Polls <paramref name="read"/> every 100 ms until <paramref name="done"/> holds; returns the value that satisfied it.</summary>
    public static async Task<T> GetAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        var last = "nothing read yet";
        while (true)
        {
            try
            {
                var value = await read();
                if (done(value))
                {
                    return value;
                }

                last = value?.ToString() ?? "null";
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or Xunit.Sdk.XunitException or System.Text.Json.JsonException)
            {
                last = e.Message;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"waited {limit.TotalSeconds:0} s for {what}; last read: {Cut(last)}");
            }

            await Task.Delay(100);
        }
    }

    private static string Cut(string text) => text.Length > 2_000 ? text[..2_000] + "…" : text;
}
