using System.Net;
using Testbed.Torrent.Extensions;
using Testbed.Torrent.Messages;

namespace Testbed.Torrent.Sessions;

/// <summary>The once-a-second duties: keep-alives, timeouts, rates and pipeline depth, the choke round, peer exchange, dialling.</summary>
public sealed partial class TorrentSession
{
    /// <summary>Most endpoints remembered for dialling (tracker, PEX, added by hand).</summary>
    private const int MaxCandidates = 1000;

    /// <summary>An endpoint that failed is not dialled again for this long.</summary>
    private const long RedialDelayMs = 30_000;

    private readonly HashSet<IPEndPoint> _explicitPeers = [];

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var last = Environment.TickCount64;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = Environment.TickCount64;
                var seconds = Math.Max(0.001, (now - last) / 1000.0);
                last = now;
                lock (_gate)
                {
                    TickLocked(now, seconds);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void TickLocked(long now, double seconds)
    {
        foreach (var conn in _peers.ToList())
        {
            // A piece-layer run unanswered for a while goes to whoever is free.
            _metadataExchange.RequestPieceLayers(conn);

            if (now - conn.Connection.LastReceived > (long)Options.PeerTimeout.TotalMilliseconds)
            {
                LastDisconnectReason = $"peer {conn.RemoteEndPoint} timed out";
                conn.DropReason = $"sent nothing for {Options.PeerTimeout.TotalSeconds:0} s";
                conn.Close();
                continue;
            }

            if (_scheduler.TimedOut(conn, now))
            {
                LastDisconnectReason = $"peer {conn.RemoteEndPoint} left {conn.Outstanding.Count} requests unanswered";
                conn.DropReason = $"left {conn.Outstanding.Count} requests unanswered for {Options.RequestTimeout.TotalSeconds:0} s";
                RequestScheduler.ReleaseOutstanding(_picker, conn);
                conn.Close();
                continue;
            }

            if (now - conn.Connection.LastSent > (long)Options.KeepAliveInterval.TotalMilliseconds)
            {
                conn.Send(KeepAliveMessage.Instance);
            }

            conn.SampleRates(seconds);
            _scheduler.AdaptPipeline(conn);
            _scheduler.Fill(_picker, conn);
            _metadataExchange.Request(conn, Info);
            if (now >= conn.NextPex)
            {
                SendPexLocked(conn);
                conn.NextPex = now + (long)Options.PexInterval.TotalMilliseconds;
            }
        }

        _choker.Tick(now, _peers, seeding: _picker?.Have.IsComplete ?? false);
        ConnectCandidatesLocked();
    }

    private void SendPexLocked(SessionPeer conn)
    {
        if (conn.RemoteExtensions?.IdOf("ut_pex") is not { } id)
        {
            return;
        }

        var current = _peers
            .Where(p => p != conn && p.ListenEndPoint is not null)
            .Select(p => p.ListenEndPoint!)
            .ToHashSet();
        var added = current.Where(e => !conn.PexSent.Contains(e)).Take(PeerExchangeMessage.MaxPeers).ToList();
        var dropped = conn.PexSent.Where(e => !current.Contains(e)).Take(PeerExchangeMessage.MaxPeers).ToList();
        if (added.Count == 0 && dropped.Count == 0)
        {
            return;
        }

        conn.Send(new ExtendedMessage(id, new PeerExchangeMessage(added, dropped).Encode()));
        conn.PexSent.UnionWith(added);
        conn.PexSent.ExceptWith(dropped);
    }

    private void AddCandidateLocked(IPEndPoint endPoint, bool force)
    {
        if (endPoint.Port == 0 || IsSelf(endPoint))
        {
            return;
        }

        if (force)
        {
            _lastAttempt.Remove(endPoint);
            _explicitPeers.Add(endPoint);
        }

        if (_candidates.Count < MaxCandidates || force)
        {
            _candidates.Add(endPoint);
        }
    }

    private bool IsSelf(IPEndPoint endPoint)
    {
        var local = _client.LocalEndPoint;
        if (local is null || local.Port != endPoint.Port)
        {
            return false;
        }

        var address = Normalize(endPoint.Address);
        return address.Equals(Normalize(local.Address)) || (IPAddress.IsLoopback(address) && (local.Address.Equals(IPAddress.Any) || IPAddress.IsLoopback(local.Address)));
    }

    private bool IsConnectedLocked(IPEndPoint endPoint) =>
        _peers.Any(p => endPoint.Equals(p.ListenEndPoint) || endPoint.Equals(p.RemoteEndPoint));

    private void ConnectCandidatesLocked()
    {
        if (_disposed == 1 || _started == 0)
        {
            return;
        }

        // A seed waits for leechers to come to it, except peers it was explicitly told to reach (AddPeer).
        var seeding = _picker?.Have.IsComplete == true;
        var now = Environment.TickCount64;
        foreach (var endPoint in seeding ? _explicitPeers.ToList() : _candidates.ToList())
        {
            if (_peers.Count + _connecting.Count >= Options.MaxPeers)
            {
                return;
            }

            if (_connecting.Contains(endPoint) || _banned.Contains(Normalize(endPoint.Address)) || IsConnectedLocked(endPoint)
                || (_lastAttempt.TryGetValue(endPoint, out var at) && now - at < RedialDelayMs))
            {
                continue;
            }

            _lastAttempt[endPoint] = now;
            _connecting.Add(endPoint);
            CountSourceLocked(endPoint);
            _ = DialAsync(endPoint);
        }
    }

    /// <summary>Why the last dial failed (refused, no answer, bad handshake), for a download that is not making progress.</summary>
    public string? LastConnectError { get; private set; }

    private async Task DialAsync(IPEndPoint endPoint)
    {
        // Said of the endpoint when this was the last hope of an unfinished download.
        var outcome = "was not kept (banned, a duplicate or this client itself)";
        try
        {
            var conn = await _client.ConnectAsync(endPoint, this, Options.ConnectTimeout, _stopping.Token).ConfigureAwait(false);
            Attach(conn, endPoint);
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException or PeerProtocolException or IOException or ObjectDisposedException)
        {
            if (!_stopping.IsCancellationRequested)
            {
                outcome = e switch
                {
                    System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } => "refused the connection (nothing listens there)",
                    System.Net.Sockets.SocketException socket => $"could not be reached: {socket.Message}",
                    OperationCanceledException => $"did not answer within {Options.ConnectTimeout.TotalSeconds:0} s",
                    PeerProtocolException protocol => $"broke the handshake: {protocol.Message}",
                    _ => $"closed the connection during the handshake: {e.Message}",
                };
                LastConnectError = $"{endPoint} {outcome}";
            }
        }
        finally
        {
            lock (_gate)
            {
                _connecting.Remove(endPoint);
                CheckSourcesLeftLocked(endPoint, outcome);
            }
        }
    }
}
