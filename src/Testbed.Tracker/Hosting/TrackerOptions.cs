using Testbed.Contracts.Settings;

namespace Testbed.Tracker.Hosting;

/// <summary>
/// Settings under the `Tracker` configuration section (environment: `Tracker__Interval`, ...), each named and ranged once
/// in <see cref="TrackerSettings"/>.
/// </summary>
public sealed class TrackerOptions
{
    /// <summary>UDP endpoint (BEP 15) as HOST:PORT; no UDP tracker when empty.</summary>
    public string? Udp { get; set; }

    /// <summary>Seconds a client should wait between regular announces.</summary>
    public int Interval { get; set; } = 1800;

    /// <summary>Seconds a client must wait at least between announces.</summary>
    public int MinInterval { get; set; } = 60;

    /// <summary>Seconds after its last announce that a silent peer is dropped; 0 means twice <see cref="Interval"/> plus a minute.</summary>
    public int PeerTimeout { get; set; }

    /// <summary>Peers returned when the client does not say how many it wants.</summary>
    public int DefaultNumWant { get; set; } = 50;

    /// <summary>Upper bound on peers returned per announce.</summary>
    public int MaxNumWant { get; set; } = 200;

    /// <summary>Upper bound on peers kept per torrent; announces of new peers beyond it are refused.</summary>
    public int MaxPeersPerTorrent { get; set; } = 20_000;

    /// <summary>Upper bound on torrents tracked at once.</summary>
    public int MaxTorrents { get; set; } = 100_000;

    /// <summary>Upper bound on peers tracked over all torrents (each costs about 100 bytes).</summary>
    public int MaxPeers { get; set; } = 1_000_000;

    /// <summary>Whether to trust the `ip` a client claims instead of the connection's address (only for trackers behind a trusted proxy or on one host).</summary>
    public bool AllowClientIp { get; set; }

    /// <summary>Upper bound on info hashes in one scrape.</summary>
    public int MaxScrapeHashes { get; set; } = 74;

    /// <summary>Concurrent UDP receive loops on the one socket; 0 means one per processor, at most 4.</summary>
    public int UdpReceiveLoops { get; set; } = 1;

    /// <summary>
    /// Run Kestrel's socket continuations inline on the I/O thread (SocketTransportOptions.UnsafePreferInlineScheduling).
    /// Safe here because no tracker handler blocks; it saves a thread-pool hop per read, which matters
    /// when every announce arrives on a new connection.
    /// </summary>
    public bool InlineSocketCompletions { get; set; } = true;

    /// <summary>
    /// Answer a connection's first request straight from the accepted socket when it is one complete `GET /announce` or
    /// `GET /scrape` (Http/AnnounceSocketListener); every other request still goes through Kestrel.
    /// </summary>
    public bool FastHttp { get; set; } = true;

    /// <summary>
    /// Share of root `torrent.announce` spans recorded (0..1; announces continuing a caller's trace follow the caller).
    /// A busy tracker serves thousands of announces a second; the `tracker.*` metrics count every one.
    /// </summary>
    public double AnnounceSpanSampleRatio { get; set; } = 0.01;

    /// <summary>The effective peer timeout in seconds.</summary>
    public int EffectivePeerTimeout => PeerTimeout > 0 ? PeerTimeout : (2 * Interval) + 60;

    /// <summary>
    /// The settings of <paramref name="configuration"/>: each number's text checked against its one range before it is
    /// bound (so a value bound from configuration is in range), then <see cref="Validate"/>; throws an
    /// <see cref="ArgumentException"/> naming the first unusable setting.
    /// </summary>
    public static TrackerOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Setting.CheckTexts(TrackerSettings.Ranged, key => configuration[key]);
        var options = new TrackerOptions();
        configuration.GetSection(TrackerSettings.Section).Bind(options);
        options.Validate();
        return options;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> when a setting exceeds the setting that bounds it.</summary>
    public void Validate()
    {
        NotAbove(TrackerSettings.MinInterval, MinInterval, TrackerSettings.Interval, Interval);
        NotAbove(TrackerSettings.DefaultNumWant, DefaultNumWant, TrackerSettings.MaxNumWant, MaxNumWant);
    }

    private static void NotAbove(Setting setting, int value, Setting bound, int boundValue)
    {
        if (value > boundValue)
        {
            throw new ArgumentException($"{setting.Key} ({value}) must not exceed {bound.Key} ({boundValue})");
        }
    }
}
