using Testbed.Torrent.Extensions;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.PeerWire;
using Testbed.Torrent.PiecePicking;

namespace Testbed.Torrent.Sessions;

/// <summary>Peer wire message handling: availability, interest, choking, requests, blocks, extensions.</summary>
public sealed partial class TorrentSession
{
    private void OnConnectedLocked(SessionPeer conn)
    {
        // BEP 3: the bitfield (or BEP 6 have all / have none) is the first message; the extension handshake follows.
        if (_picker is null)
        {
            if (conn.FastEnabled)
            {
                conn.Send(StateMessage.HaveNone);
            }
        }
        else
        {
            SendAvailabilityLocked(conn);
        }

        if (conn.ExtensionsEnabled)
        {
            var ids = new Dictionary<string, byte> { ["ut_metadata"] = ExtensionHandshake.UtMetadataId, ["ut_pex"] = ExtensionHandshake.UtPexId };
            var handshake = new ExtensionHandshake(
                ids,
                _client.LocalEndPoint?.Port,
                "Testbed 0.1",
                Math.Min(Options.AdvertisedRequestQueue, Options.MaxQueuedUploads),
                Info is null ? null : Info.RawBytes.Length);
            conn.Send(new ExtendedMessage(0, handshake.Encode()));
        }

        if (conn.FastEnabled && _picker is not null)
        {
            _choker.OfferAllowedFast(conn, InfoHash, _picker!.Have);
        }
    }

    private void SendAvailabilityLocked(SessionPeer conn)
    {
        var have = _picker!.Have;
        if (conn.FastEnabled && have.IsComplete)
        {
            conn.Send(StateMessage.HaveAll);
        }
        else if (conn.FastEnabled && have.Count == 0)
        {
            conn.Send(StateMessage.HaveNone);
        }
        else if (have.Count > 0)
        {
            conn.Send(new BitfieldMessage(have.ToBytes()));
        }
    }

    private void AnnounceAvailabilityAfterMetadataLocked(SessionPeer conn)
    {
        // The peer already got our (empty) availability; tell it piece by piece what resume found.
        var have = _picker!.Have;
        for (var i = 0; i < have.Length; i++)
        {
            if (have[i])
            {
                conn.Send(new PieceIndexMessage(MessageId.Have, i));
            }
        }

        if (conn.FastEnabled)
        {
            _choker.OfferAllowedFast(conn, InfoHash, _picker!.Have);
        }

        UpdateInterestLocked(conn);
        _scheduler.Fill(_picker, conn);
    }

    private void HandleLocked(SessionPeer conn, PeerMessage message, ref List<PieceDownload>? finished)
    {
        switch (message)
        {
            case KeepAliveMessage:
                break;
            case StateMessage state:
                OnStateLocked(conn, state.Id);
                break;
            case PieceIndexMessage indexed:
                OnPieceIndexLocked(conn, indexed);
                break;
            case BitfieldMessage bitfield:
                // BEP 3 wants the bitfield first, but some clients (aria2) send it after have/have-none: merge it.
                SetAvailabilityLocked(conn, bitfield.Bits);
                break;
            case BlockMessage block:
                OnBlockMessageLocked(conn, block);
                break;
            case PieceMessage piece:
                OnPieceLocked(conn, piece, ref finished);
                break;
            case ExtendedMessage extended:
                OnExtendedLocked(conn, extended);
                break;
            case HashRangeMessage hashRange:
                OnHashRangeLocked(conn, hashRange);
                break;
            case HashesMessage hashes:
                OnHashesLocked(conn, hashes);
                break;
            default:
                // Port (no DHT here) and unknown ids are skipped, as BEP 3 asks.
                break;
        }
    }

    private void OnStateLocked(SessionPeer conn, MessageId id)
    {
        switch (id)
        {
            case MessageId.Choke:
                conn.PeerChoking = true;
                if (!conn.FastEnabled)
                {
                    // Without the fast extension a choke silently discards our requests.
                    RequestScheduler.ReleaseOutstanding(_picker, conn);
                }

                _scheduler.Fill(_picker, conn);
                break;
            case MessageId.Unchoke:
                conn.PeerChoking = false;
                _scheduler.Fill(_picker, conn);
                break;
            case MessageId.Interested:
                conn.PeerInterested = true;
                _choker.OnInterested(conn, _peers);
                break;
            case MessageId.NotInterested:
                conn.PeerInterested = false;
                break;
            case MessageId.HaveAll:
            case MessageId.HaveNone:
                RequireFast(conn, id);
                SetAvailabilityLocked(conn, id == MessageId.HaveAll);
                break;
        }
    }

    private static void RequireFast(SessionPeer conn, MessageId id)
    {
        if (!conn.FastEnabled)
        {
            throw new PeerProtocolException($"{id} sent without the fast extension negotiated");
        }
    }

    private void OnPieceIndexLocked(SessionPeer conn, PieceIndexMessage message)
    {
        if (message.Id != MessageId.Have)
        {
            RequireFast(conn, message.Id);
        }

        if (_picker is null)
        {
            return;
        }

        if ((uint)message.Piece >= (uint)_picker.Have.Length)
        {
            throw new PeerProtocolException($"{message.Id} for piece {message.Piece} of {_picker.Have.Length}");
        }

        switch (message.Id)
        {
            case MessageId.Have:
                conn.AvailabilityReceived = true;
                conn.PeerHas ??= new Bitfield(_picker.Have.Length);
                if (conn.PeerHas.Set(message.Piece))
                {
                    _picker.AddAvailability(message.Piece);
                }

                if (!conn.AmInterested && !_picker.Have[message.Piece])
                {
                    conn.AmInterested = true;
                    conn.Send(StateMessage.Interested);
                }

                _scheduler.Fill(_picker, conn);
                break;
            case MessageId.AllowedFast:
                if (conn.AllowedFastFromPeer.Count < 64 && conn.AllowedFastFromPeer.Add(message.Piece))
                {
                    _scheduler.Fill(_picker, conn);
                }

                break;
            default:
                // Suggest piece: rarest first already decides; suggestions are a hint we may ignore.
                break;
        }
    }

    private void SetAvailabilityLocked(SessionPeer conn, object availability)
    {
        conn.AvailabilityReceived = true;
        if (_picker is null)
        {
            conn.PendingAvailability = availability;
            return;
        }

        var field = availability switch
        {
            byte[] bits => Bitfield.FromBytes(bits, _picker.Have.Length),
            true => AllSet(_picker.Have.Length),
            _ => new Bitfield(_picker.Have.Length),
        };
        if (conn.PeerHas is { } known)
        {
            // Late availability only ever adds pieces (a peer cannot un-have a piece).
            for (var i = 0; i < field.Length; i++)
            {
                if (field[i] && known.Set(i))
                {
                    _picker.AddAvailability(i);
                }
            }
        }
        else
        {
            conn.PeerHas = field;
            _picker.AddAvailability(field);
        }

        UpdateInterestLocked(conn);
        _scheduler.Fill(_picker, conn);
    }

    private static Bitfield AllSet(int length)
    {
        var field = new Bitfield(length);
        field.SetAll();
        return field;
    }

    private void ApplyPendingAvailabilityLocked(SessionPeer conn)
    {
        if (conn.PendingAvailability is { } pending)
        {
            conn.PendingAvailability = null;
            SetAvailabilityLocked(conn, pending);
        }
    }

    private void UpdateInterestLocked(SessionPeer conn)
    {
        var interested = _picker is not null && conn.PeerHas is not null && _picker.IsInteresting(conn.PeerHas);
        if (interested != conn.AmInterested)
        {
            conn.AmInterested = interested;
            conn.Send(interested ? StateMessage.Interested : StateMessage.NotInterested);
        }
    }

    private void OnBlockMessageLocked(SessionPeer conn, BlockMessage message)
    {
        var block = message.Block;
        switch (message.Id)
        {
            case MessageId.Request:
                OnRequestLocked(conn, block);
                break;
            case MessageId.Cancel:
                if (conn.Connection.CancelUpload(block) && conn.FastEnabled)
                {
                    conn.Send(new BlockMessage(MessageId.RejectRequest, block));
                }

                break;
            case MessageId.RejectRequest:
                RequireFast(conn, MessageId.RejectRequest);
                RequestScheduler.OnReject(_picker, conn, block);
                break;
        }
    }

    private void OnRequestLocked(SessionPeer conn, BlockRequest block)
    {
        if (Layout is null || _picker is null)
        {
            if (conn.FastEnabled)
            {
                conn.Send(new BlockMessage(MessageId.RejectRequest, block));
            }

            return;
        }

        if ((uint)block.Piece >= (uint)Layout.PieceCount || block.Begin < 0 || block.Length <= 0
            || block.Length > BlockRequest.StandardLength || (long)block.Begin + block.Length > Layout.LengthOf(block.Piece))
        {
            throw new PeerProtocolException($"request for piece {block.Piece} begin {block.Begin} length {block.Length} is out of bounds (blocks are at most 16 KiB)");
        }

        var allowed = _picker.Have[block.Piece] && Choker.MayServe(conn, block.Piece);
        if (!allowed)
        {
            if (conn.FastEnabled)
            {
                conn.Send(new BlockMessage(MessageId.RejectRequest, block));
            }

            return;
        }

        if (conn.Connection.QueuedUploadCount >= Options.MaxQueuedUploads)
        {
            throw new PeerProtocolException($"request flood: more than {Options.MaxQueuedUploads} requests queued");
        }

        conn.Connection.QueueUpload(block);
    }

    private void OnPieceLocked(SessionPeer conn, PieceMessage message, ref List<PieceDownload>? finished)
    {
        var block = new BlockRequest(message.Piece, message.Begin, (int)message.Data.Length);
        if (!RequestScheduler.TakeAnswered(_picker, conn, block))
        {
            return;
        }

        conn.BytesDown += block.Length;
        Interlocked.Add(ref _bytesDown, block.Length);
        TransferMetrics.BytesDown.Add(block.Length);
        conn.LastBlockReceived = Environment.TickCount64;
        if (_scheduler.Receive(_picker!, conn, message, block) is { } done)
        {
            (finished ??= []).Add(done);
        }

        _scheduler.Fill(_picker, conn);
    }

    private void OnExtendedLocked(SessionPeer conn, ExtendedMessage message)
    {
        if (!conn.ExtensionsEnabled)
        {
            throw new PeerProtocolException("extended message without the extension protocol negotiated");
        }

        switch (message.ExtendedId)
        {
            case 0:
                var handshake = ExtensionHandshake.Parse(message.Payload);
                conn.RemoteExtensions = handshake;
                if (handshake.ListenPort is { } port)
                {
                    conn.ListenEndPoint = new System.Net.IPEndPoint(conn.RemoteEndPoint.Address, port);
                }

                if (handshake.RequestQueue is { } reqq)
                {
                    RequestScheduler.LimitPipeline(conn, reqq);
                }

                if (handshake.MetadataSize is { } size)
                {
                    _metadataExchange.Offer(size);
                }

                conn.NextPex = Environment.TickCount64 + 1000;
                _metadataExchange.Request(conn, Info);
                _metadataExchange.RequestPieceLayers(conn);
                break;
            case ExtensionHandshake.UtMetadataId:
                if (_metadataExchange.OnMessage(conn, MetadataMessage.Parse(message.Payload), Info) is { } raw)
                {
                    // Parsed (and its piece layers fetched, or its storage set up) off the lock.
                    _ = Task.Run(() => OnMetadataAsync(raw));
                }

                break;
            case ExtensionHandshake.UtPexId:
                var pex = PeerExchangeMessage.Parse(message.Payload);
                foreach (var endPoint in pex.Added)
                {
                    AddCandidateLocked(endPoint, force: false);
                }

                ConnectCandidatesLocked();
                break;
            default:
                break;
        }
    }

    private async Task OnMetadataAsync(byte[] raw)
    {
        try
        {
            var info = TorrentInfo.Parse(raw);
            if (MetadataExchange.NeedsPieceLayers(info, _pieceLayers))
            {
                // BEP 9 metadata carries no piece layers: fetch them from v2 peers first; storage is set up once they verify.
                lock (_gate)
                {
                    _metadataExchange.StartPieceLayers(info, _pieceLayers, _peers);
                }

                return;
            }

            await SetUpStorageAsync(info, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MetainfoException or Bencoding.BencodeException)
        {
            // The bytes hashed to the info hash yet do not parse: nobody can fix that; fail loudly.
            _metadataReady.TrySetException(e);
            _completed.TrySetException(e);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
