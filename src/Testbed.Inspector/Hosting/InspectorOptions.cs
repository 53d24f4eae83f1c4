using Testbed.Contracts.Settings;

namespace Testbed.Inspector.Hosting;

/// <summary>
/// Settings of the inspector, section <c>Inspector</c> (environment <c>Inspector__DashboardUrl</c>, ...), named and ranged
/// in <see cref="InspectorSettings"/>. Only the dashboard's address is required; the limits bound what the inspector holds and reads.
/// </summary>
public sealed class InspectorOptions
{
    /// <summary>Base URL of the Aspire dashboard, where its telemetry API (<c>/api/telemetry/...</c>) is served.</summary>
    public string? DashboardUrl { get; set; }

    /// <summary>The dashboard's telemetry API key (<c>Dashboard:Api:PrimaryApiKey</c>), sent as <c>x-api-key</c>; empty sends none (API AuthMode Unsecured).</summary>
    public string? DashboardApiKey { get; set; }

    /// <summary>Base URL of the dashboard for links shown to users (a browser may reach it elsewhere); defaults to <see cref="DashboardUrl"/>.</summary>
    public string? DashboardBrowserUrl { get; set; }

    /// <summary>Most traces held; the trace first seen is evicted first.</summary>
    public int MaxTraces { get; set; } = 5_000;

    /// <summary>Most spans held over all traces.</summary>
    public int MaxSpans { get; set; } = 200_000;

    /// <summary>Most spans held per trace (a catch-up trace can be long); later spans of a full trace are dropped and counted.</summary>
    public int MaxSpansPerTrace { get; set; } = 2_000;

    /// <summary>Most attributes kept per span (the rest are dropped).</summary>
    public int MaxAttributesPerSpan { get; set; } = 64;

    /// <summary>Longest attribute value, span name or status message kept, in characters (longer ones are cut).</summary>
    public int MaxValueLength { get; set; } = 1_024;

    /// <summary>Largest response body read from the dashboard (a snapshot or a trace), in bytes.</summary>
    public int MaxResponseBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Longest line of the dashboard's NDJSON span stream, in bytes (one span with its resource); longer lines are skipped and counted.</summary>
    public int MaxLineBytes { get; set; } = 1024 * 1024;

    /// <summary>Most spans taken from one response (the rest are counted as dropped).</summary>
    public int MaxSpansPerResponse { get; set; } = 20_000;

    /// <summary>How long a request may wait for the dashboard's response headers.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the dashboard is probed while the span stream is open (an idle stream cannot tell a hung dashboard from a quiet one).</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait before reconnecting after a failure; doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan MinRetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between two attempts to reach the dashboard.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The dashboard URL, parsed (valid after <see cref="Validate"/>).</summary>
    public Uri DashboardUri => new(WithSlash(DashboardUrl!));

    /// <summary>The base URL for links to the dashboard's pages.</summary>
    public Uri BrowserUri => new(WithSlash(string.IsNullOrWhiteSpace(DashboardBrowserUrl) ? DashboardUrl! : DashboardBrowserUrl));

    /// <summary>
    /// The settings of <paramref name="configuration"/>: each limit's text checked against its one range before it is
    /// bound (so a value bound from configuration is in range), then <see cref="Validate"/>; throws an
    /// <see cref="InvalidOperationException"/> naming every unusable setting (as its environment variable).
    /// </summary>
    public static InspectorOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ThrowIfAny([.. Setting.RefusalsOfTexts(InspectorSettings.Ranged, key => configuration[key], setting => setting.EnvironmentVariable)]);
        var options = new InspectorOptions();
        configuration.GetSection(InspectorSettings.Section).Bind(options);
        options.Validate();
        return options;
    }

    /// <summary>
    /// Throws an <see cref="InvalidOperationException"/> naming every unusable address or key, and retry delays in the
    /// wrong order (as environment variables); each limit's own range is checked on its text by <see cref="Read"/>.
    /// </summary>
    public void Validate()
    {
        var errors = new List<string>();
        var url = InspectorSettings.DashboardUrl.EnvironmentVariable;
        if (string.IsNullOrWhiteSpace(DashboardUrl))
        {
            errors.Add($"{url} is required: the base URL of the Aspire dashboard, where its telemetry API is served (e.g. http://127.0.0.1:18888).");
        }
        else if (!IsHttpUrl(DashboardUrl))
        {
            errors.Add($"{url} must be an absolute http:// or https:// URL, not '{Cut(DashboardUrl)}'.");
        }

        if (!string.IsNullOrWhiteSpace(DashboardBrowserUrl) && !IsHttpUrl(DashboardBrowserUrl))
        {
            var browserUrl = InspectorSettings.DashboardBrowserUrl.EnvironmentVariable;
            errors.Add($"{browserUrl} must be an absolute http:// or https:// URL, not '{Cut(DashboardBrowserUrl)}'.");
        }

        if (DashboardApiKey is { } key && (key.Length > 4096 || key.Any(char.IsControl)))
        {
            errors.Add($"{InspectorSettings.DashboardApiKey.EnvironmentVariable} must be at most 4096 characters without control characters.");
        }

        if (MaxRetryDelay < MinRetryDelay)
        {
            errors.Add(
                $"{InspectorSettings.MaxRetryDelay.EnvironmentVariable} must not be shorter than {InspectorSettings.MinRetryDelay.EnvironmentVariable}.");
        }

        ThrowIfAny(errors);
    }

    private static void ThrowIfAny(IReadOnlyCollection<string> errors)
    {
        if (errors.Count > 0)
        {
            // One sentence per setting (a range's refusal has no full stop of its own).
            throw new InvalidOperationException("Inspector settings: " + string.Join(" ", errors.Select(e => e.EndsWith('.') ? e : e + ".")));
        }
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);

    private static string WithSlash(string url) => url.Trim().EndsWith('/') ? url.Trim() : url.Trim() + "/";

    private static string Cut(string value) => value.Length > 100 ? value[..100] + "…" : value;
}
