namespace Testbed.Contracts.Settings;

/// <summary>
/// Every setting of the inspector (section <c>Inspector</c>, environment <c>Inspector__...</c>), named once: the inspector
/// reads and checks them through these, and the AppHost and the tests set them through these.
/// </summary>
public static class InspectorSettings
{
    /// <summary>The configuration section of every inspector setting.</summary>
    public const string Section = "Inspector";

    /// <summary>Base URL of the Aspire dashboard, where its telemetry API is served (required).</summary>
    public static Setting DashboardUrl { get; } = new("Inspector:DashboardUrl");

    /// <summary>The dashboard's telemetry API key, sent as <c>x-api-key</c>; empty sends none.</summary>
    public static Setting DashboardApiKey { get; } = new("Inspector:DashboardApiKey");

    /// <summary>Base URL of the dashboard for links shown to users; defaults to <see cref="DashboardUrl"/>.</summary>
    public static Setting DashboardBrowserUrl { get; } = new("Inspector:DashboardBrowserUrl");

    /// <summary>Most traces held.</summary>
    public static IntegerSetting MaxTraces { get; } = new("Inspector:MaxTraces", 1, int.MaxValue, "traces held");

    /// <summary>Most spans held over all traces.</summary>
    public static IntegerSetting MaxSpans { get; } = new("Inspector:MaxSpans", 1, int.MaxValue, "spans held over all traces");

    /// <summary>Most spans held per trace.</summary>
    public static IntegerSetting MaxSpansPerTrace { get; } = new("Inspector:MaxSpansPerTrace", 1, int.MaxValue, "spans held per trace");

    /// <summary>Most attributes kept per span.</summary>
    public static IntegerSetting MaxAttributesPerSpan { get; } = new("Inspector:MaxAttributesPerSpan", 1, int.MaxValue, "attributes kept per span");

    /// <summary>Longest attribute value, span name or status message kept.</summary>
    public static IntegerSetting MaxValueLength { get; } = new("Inspector:MaxValueLength", 1, int.MaxValue, "characters of a value kept");

    /// <summary>Largest response body read from the dashboard.</summary>
    public static IntegerSetting MaxResponseBytes { get; } = new("Inspector:MaxResponseBytes", 1, int.MaxValue, "bytes of a response read");

    /// <summary>Longest line of the dashboard's span stream.</summary>
    public static IntegerSetting MaxLineBytes { get; } = new("Inspector:MaxLineBytes", 1, int.MaxValue, "bytes of a stream line read");

    /// <summary>Most spans taken from one response.</summary>
    public static IntegerSetting MaxSpansPerResponse { get; } = new("Inspector:MaxSpansPerResponse", 1, int.MaxValue, "spans taken from one response");

    /// <summary>How long a request may wait for the dashboard's response headers.</summary>
    public static DurationSetting RequestTimeout { get; } = Duration("Inspector:RequestTimeout", "wait for the dashboard's response headers");

    /// <summary>How often the dashboard is probed while the span stream is open.</summary>
    public static DurationSetting ProbeInterval { get; } = Duration("Inspector:ProbeInterval", "between probes of the dashboard");

    /// <summary>First wait before reconnecting after a failure (at most <see cref="MaxRetryDelay"/>).</summary>
    public static DurationSetting MinRetryDelay { get; } = Duration("Inspector:MinRetryDelay", "first wait before reconnecting");

    /// <summary>Longest wait between two attempts to reach the dashboard.</summary>
    public static DurationSetting MaxRetryDelay { get; } = Duration("Inspector:MaxRetryDelay", "longest wait between two attempts");

    /// <summary>Every setting with a range, for checking a configuration's raw text before it is bound.</summary>
    public static IReadOnlyList<Setting> Ranged { get; } =
    [
        MaxTraces, MaxSpans, MaxSpansPerTrace, MaxAttributesPerSpan, MaxValueLength, MaxResponseBytes, MaxLineBytes, MaxSpansPerResponse,
        RequestTimeout, ProbeInterval, MinRetryDelay, MaxRetryDelay,
    ];

    /// <summary>Every duration of the inspector: above zero, at most an hour.</summary>
    private static DurationSetting Duration(string key, string meaning) =>
        new(key, TimeSpan.FromTicks(1), TimeSpan.FromHours(1), meaning + ", e.g. 00:00:05");
}
