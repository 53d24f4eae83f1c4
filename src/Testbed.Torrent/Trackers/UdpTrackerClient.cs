using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>
/// A UDP tracker (BEP 15): connect for a connection id (reused for a minute), then announce or
/// scrape, each request matched by a random transaction id and retransmitted with doubling timeouts.
/// </summary>
public sealed class UdpTrackerClient : ITrackerClient
{
    private const int MaxDatagram = 65_536;

    private readonly TrackerClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _receiveBuffer = new byte[MaxDatagram];
    private Socket? _socket;
    private IPEndPoint? _remote;
    private long _connectionId;
    private long _connectionIdExpiresAt; // Stopwatch timestamp.

    /// <summary>Creates a client for `udp://host:port`.</summary>
    public UdpTrackerClient(Uri announceUri, TrackerClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(announceUri);
        if (announceUri.Scheme != "udp")
        {
            throw new ArgumentException($"'{announceUri}' is not a udp:// URL", nameof(announceUri));
        }

        if (announceUri.Port is <= 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException($"'{announceUri}' has no port", nameof(announceUri));
        }

        Uri = announceUri;
        _options = options ?? new TrackerClientOptions();
    }

    /// <inheritdoc />
    public Uri Uri { get; }

    /// <summary>How many connect exchanges this client has completed (a connection id is reused within its lifetime).</summary>
    public int ConnectCount { get; private set; }

    /// <inheritdoc />
    public Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AnnounceActivity.TraceAsync(Uri, request, () => TransactAsync(
            UdpTrackerProtocol.Action.Announce,
            (id, tx) => UdpTrackerProtocol.AnnounceRequest(id, tx, request),
            (datagram, family) => UdpTrackerProtocol.ReadAnnounceResponse(datagram, family, _options.MaxPeers),
            cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        var result = new Dictionary<InfoHash, ScrapeStats>();
        foreach (var batch in infoHashes.Chunk(UdpTrackerProtocol.MaxScrapeHashes))
        {
            var stats = await TransactAsync(
                UdpTrackerProtocol.Action.Scrape,
                (id, tx) => UdpTrackerProtocol.ScrapeRequest(id, tx, batch),
                (datagram, _) => UdpTrackerProtocol.ReadScrapeResponse(datagram, batch.Length),
                cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Length; i++)
            {
                result[batch[i]] = stats[i];
            }
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _socket?.Dispose();
        _gate.Dispose();
    }

    private static uint NewTransactionId() => BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4));

    private async Task<T> TransactAsync<T>(
        UdpTrackerProtocol.Action action,
        Func<long, uint, byte[]> build,
        Func<ReadOnlySpan<byte>, AddressFamily, T> read,
        CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var udp = await EnsureSocketAsync(cancellationToken).ConfigureAwait(false);
            for (var attempt = 0; attempt < _options.UdpMaxAttempts; attempt++)
            {
                var timeout = _options.UdpInitialTimeout * Math.Pow(2, Math.Min(attempt, 8));
                if (Stopwatch.GetTimestamp() >= _connectionIdExpiresAt)
                {
                    var connectTx = NewTransactionId();
                    var connected = await ExchangeAsync(udp, UdpTrackerProtocol.ConnectRequest(connectTx), connectTx, UdpTrackerProtocol.Action.Connect, timeout, cancellationToken).ConfigureAwait(false);
                    if (connected is null)
                    {
                        continue;
                    }

                    _connectionId = Read(() => UdpTrackerProtocol.ReadConnectResponse(connected));
                    _connectionIdExpiresAt = Stopwatch.GetTimestamp() + (long)(_options.UdpConnectionIdLifetime.TotalSeconds * Stopwatch.Frequency);
                    ConnectCount++;
                }

                var tx = NewTransactionId();
                var response = await ExchangeAsync(udp, build(_connectionId, tx), tx, action, timeout, cancellationToken).ConfigureAwait(false);
                if (response is not null)
                {
                    return Read(() => read(response, _remote!.AddressFamily));
                }
            }

            throw new TrackerException(Uri, $"no response after {_options.UdpMaxAttempts} attempt(s)", isRetryable: true);
        }
        finally
        {
            _gate.Release();
        }
    }

    private T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (FormatException error)
        {
            throw new TrackerException(Uri, $"malformed response: {error.Message}", isRetryable: false, error);
        }
    }

    /// <summary>Sends a datagram and waits for the response with the same transaction id; null on timeout.</summary>
    private async Task<byte[]?> ExchangeAsync(Socket udp, byte[] request, uint transactionId, UdpTrackerProtocol.Action expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await udp.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            while (true)
            {
                int received;
                try
                {
                    received = await udp.ReceiveAsync(_receiveBuffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return null;
                }

                var datagram = _receiveBuffer.AsSpan(0, received);
                if (!UdpTrackerProtocol.TryReadHeader(datagram, out var action, out var tx) || tx != transactionId)
                {
                    continue; // A stray or late datagram from an earlier transaction.
                }

                if (action == UdpTrackerProtocol.Action.Error)
                {
                    throw new TrackerFailureException(Uri, UdpTrackerProtocol.ReadError(datagram));
                }

                if (action != expected)
                {
                    throw new TrackerException(Uri, $"malformed response: action {(int)action}, expected {(int)expected}", isRetryable: false);
                }

                return datagram.ToArray();
            }
        }
        catch (SocketException error)
        {
            // A connected UDP socket reports ICMP port-unreachable as ConnectionRefused: the tracker is not there now.
            throw new TrackerException(Uri, error.Message, isRetryable: true, error);
        }
    }

    private async Task<Socket> EnsureSocketAsync(CancellationToken cancellationToken)
    {
        if (_socket is not null)
        {
            return _socket;
        }

        IPAddress address;
        if (!IPAddress.TryParse(Uri.IdnHost, out var literal))
        {
            IPAddress[] addresses;
            try
            {
                addresses = await Dns.GetHostAddressesAsync(Uri.IdnHost, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException error)
            {
                throw new TrackerException(Uri, $"cannot resolve host: {error.Message}", isRetryable: true, error);
            }

            address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
                ?? throw new TrackerException(Uri, "host has no addresses", isRetryable: true);
        }
        else
        {
            address = literal;
        }

        _remote = new IPEndPoint(address, Uri.Port);
        var created = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Connecting filters datagrams to the tracker's address in the kernel.
            await created.ConnectAsync(_remote, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            created.Dispose();
            throw;
        }

        _socket = created;
        return created;
    }
}
