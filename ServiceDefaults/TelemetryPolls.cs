using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Requests a service repeats on a timer to watch another one (the chaos controller reading every peer's /status twice a
/// second): they must not become traces, or they bury the traces worth reading (a mined block, a fault) in the dashboard.
/// The poller wraps each poll in <see cref="Begin"/> and marks its requests with <see cref="Mark"/>; the polled service
/// (through <see cref="Extensions.ConfigureOpenTelemetry{TBuilder}"/>) records no server span for a marked request, the
/// way Aspire's template drops the /health and /alive probes. Ordinary requests and the work they start are traced as before.
/// </summary>
public static class TelemetryPolls
{
    /// <summary>Request header that marks a request as a poll (value <c>1</c>); any client, in any language, can set it.</summary>
    public const string HeaderName = "X-Testbed-Poll";

    /// <summary>
    /// Starts a poll: until the scope is disposed, this async flow records no spans (OpenTelemetry's
    /// <see cref="SuppressInstrumentationScope"/>, which the HttpClient instrumentation honours) and has no current
    /// activity, so no trace context leaks into the poll's requests.
    /// </summary>
    public static IDisposable Begin() => new PollScope();

    /// <summary>True inside <see cref="Begin"/>'s scope.</summary>
    public static bool IsPolling => PollScope.Active.Value;

    /// <summary>Marks <paramref name="request"/> as a poll so the receiving service records no span for it.</summary>
    public static HttpRequestMessage Mark(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Remove(HeaderName);
        request.Headers.TryAddWithoutValidation(HeaderName, "1");
        return request;
    }

    /// <summary>Marks <paramref name="request"/> as a poll when it is sent inside <see cref="Begin"/>'s scope.</summary>
    public static HttpRequestMessage MarkIfPolling(HttpRequestMessage request) => IsPolling ? Mark(request) : request;

    /// <summary>Whether an incoming request is a poll (carries <see cref="HeaderName"/>).</summary>
    public static bool IsPoll(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Headers.ContainsKey(HeaderName);
    }

    private sealed class PollScope : IDisposable
    {
        public static readonly AsyncLocal<bool> Active = new();

        private readonly IDisposable _suppression = SuppressInstrumentationScope.Begin();
        private readonly Activity? _current = Activity.Current;
        private readonly bool _wasActive = Active.Value;
        private bool _disposed;

        public PollScope()
        {
            Activity.Current = null;
            Active.Value = true;
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Active.Value = _wasActive;
            Activity.Current = _current;
            _suppression.Dispose();
        }
    }
}
