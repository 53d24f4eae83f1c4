namespace Testbed.Torrent.Trackers;

/// <summary>Makes the right client for a tracker URL.</summary>
public interface ITrackerClientFactory
{
    /// <summary>A client for an http://, https:// or udp:// announce URL; other schemes throw a non-retryable <see cref="TrackerException"/>.</summary>
    ITrackerClient Create(Uri announceUri);
}

/// <summary>Default factory: HTTP(S) clients share one HttpClient (one connection per request, see <see cref="HttpTrackerClient.CreateHttpClient"/>); UDP clients each own a socket.</summary>
public sealed class TrackerClientFactory : ITrackerClientFactory, IDisposable
{
    private readonly TrackerClientOptions _options;
    private readonly Lazy<HttpClient> _httpClient;

    /// <summary>Creates the factory; when <paramref name="httpClient"/> is null one is made on first use and disposed with the factory.</summary>
    public TrackerClientFactory(TrackerClientOptions? options = null, HttpClient? httpClient = null)
    {
        _options = options ?? new TrackerClientOptions();
        _httpClient = httpClient is not null
            ? new Lazy<HttpClient>(httpClient)
            : new Lazy<HttpClient>(HttpTrackerClient.CreateHttpClient);
        OwnsHttpClient = httpClient is null;
    }

    private bool OwnsHttpClient { get; }

    /// <inheritdoc />
    public ITrackerClient Create(Uri announceUri)
    {
        ArgumentNullException.ThrowIfNull(announceUri);
        return announceUri.Scheme switch
        {
            "http" or "https" => new HttpTrackerClient(announceUri, _httpClient.Value, _options),
            "udp" when announceUri.Port > 0 => new UdpTrackerClient(announceUri, _options),
            "udp" => throw new TrackerException(announceUri, "udp tracker URL has no port", isRetryable: false),
            _ => throw new TrackerException(announceUri, $"unsupported tracker scheme '{announceUri.Scheme}'", isRetryable: false),
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (OwnsHttpClient && _httpClient.IsValueCreated)
        {
            _httpClient.Value.Dispose();
        }
    }
}
