using Testbed.Torrent.Extensions;
using Testbed.Torrent.Messages;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.PeerWire;
using Testbed.Torrent.PiecePicking;

namespace Testbed.Torrent.Sessions;

/// <summary>Peer wire message handling: availability, interest, choking, requests, blocks, extensions.</summary>
public sealed partial class TorrentSession
{
    /// <summary>Unrequested blocks a peer may send (cancel races) before it counts as misbehaving.</summary>
    private const int MaxUnexpectedBlocks = 64;

    private void OnConnectedLocked(PeerConnection conn)
    {
        // BEP 3: the bitfield (or BEP 6 have all / have none) is the first message; the extension handshake follows.
        if (picker is null)
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
                client.LocalEndPoint?.Port,
                "Testbed 0.1",
                Math.Min(Options.AdvertisedRequestQueue, Options.MaxQueuedUploads),
                Info is null ? null : Info.RawBytes.Length);
            conn.Send(new ExtendedMessage(0, handshake.Encode()));
        }

        if (conn.FastEnabled && picker is not null)
        {
            OfferAllowedFastLocked(conn);
        }
    }

    private void SendAvailabilityLocked(PeerConnection conn)
    {
        var have = picker!.Have;
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

    private void AnnounceAvailabilityAfterMetadataLocked(PeerConnection conn)
    {
        // The peer already got our (empty) availability; tell it piece by piece what resume found.
        var have = picker!.Have;
        for (var i = 0; i < have.Length; i++)
        {
            if (have[i])
            {
                conn.Send(new PieceIndexMessage(MessageId.Have, i));
            }
        }

        if (conn.FastEnabled)
        {
            OfferAllowedFastLocked(conn);
        }

        UpdateInterestLocked(conn);
        FillRequestsLocked(conn);
    }

    private void OfferAllowedFastLocked(PeerConnection conn)
    {
        foreach (var piece in AllowedFastSet.Compute(conn.RemoteEndPoint.Address, InfoHash, picker!.Have.Length, Options.AllowedFastCount))
        {
            if (picker.Have[piece] && conn.AllowedFastForPeer.Add(piece))
            {
                conn.Send(new PieceIndexMessage(MessageId.AllowedFast, piece));
            }
        }
    }

    private void HandleLocked(PeerConnection conn, PeerMessage message, ref List<PieceDownload>? finished)
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

    private void OnStateLocked(PeerConnection conn, MessageId id)
    {
        switch (id)
        {
            case MessageId.Choke:
                conn.PeerChoking = true;
                if (!conn.FastEnabled)
                {
                    // Without the fast extension a choke silently discards our requests.
                    ReleaseOutstandingLocked(conn);
                }

                FillRequestsLocked(conn);
                break;
            case MessageId.Unchoke:
                conn.PeerChoking = false;
                FillRequestsLocked(conn);
                break;
            case MessageId.Interested:
                conn.PeerInterested = true;
                if (conn.AmChoking && UnchokedCountLocked() < Options.UploadSlots)
                {
                    UnchokeLocked(conn);
                }

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

    private static void RequireFast(PeerConnection conn, MessageId id)
    {
        if (!conn.FastEnabled)
        {
            throw new PeerProtocolException($"{id} sent without the fast extension negotiated");
        }
    }

    private void OnPieceIndexLocked(PeerConnection conn, PieceIndexMessage message)
    {
        if (message.Id != MessageId.Have)
        {
            RequireFast(conn, message.Id);
        }

        if (picker is null)
        {
            return;
        }

        if ((uint)message.Piece >= (uint)picker.Have.Length)
        {
            throw new PeerProtocolException($"{message.Id} for piece {message.Piece} of {picker.Have.Length}");
        }

        switch (message.Id)
        {
            case MessageId.Have:
                conn.AvailabilityReceived = true;
                conn.PeerHas ??= new Bitfield(picker.Have.Length);
                if (conn.PeerHas.Set(message.Piece))
                {
                    picker.AddAvailability(message.Piece);
                }

                if (!conn.AmInterested && !picker.Have[message.Piece])
                {
                    conn.AmInterested = true;
                    conn.Send(StateMessage.Interested);
                }

                FillRequestsLocked(conn);
                break;
            case MessageId.AllowedFast:
                if (conn.AllowedFastFromPeer.Count < 64 && conn.AllowedFastFromPeer.Add(message.Piece))
                {
                    FillRequestsLocked(conn);
                }

                break;
            default:
                // Suggest piece: rarest first already decides; suggestions are a hint we may ignore.
                break;
        }
    }

    private void SetAvailabilityLocked(PeerConnection conn, object availability)
    {
        conn.AvailabilityReceived = true;
        if (picker is null)
        {
            conn.PendingAvailability = availability;
            return;
        }

        var field = availability switch
        {
            byte[] bits => Bitfield.FromBytes(bits, picker.Have.Length),
            true => AllSet(picker.Have.Length),
            _ => new Bitfield(picker.Have.Length),
        };
        if (conn.PeerHas is { } known)
        {
            // Late availability only ever adds pieces (a peer cannot un-have a piece).
            for (var i = 0; i < field.Length; i++)
            {
                if (field[i] && known.Set(i))
                {
                    picker.AddAvailability(i);
                }
            }
        }
        else
        {
            conn.PeerHas = field;
            picker.AddAvailability(field);
        }

        UpdateInterestLocked(conn);
        FillRequestsLocked(conn);
    }

    private static Bitfield AllSet(int length)
    {
        var field = new Bitfield(length);
        field.SetAll();
        return field;
    }

    private void ApplyPendingAvailabilityLocked(PeerConnection conn)
    {
        if (conn.PendingAvailability is { } pending)
        {
            conn.PendingAvailability = null;
            SetAvailabilityLocked(conn, pending);
        }
    }

    private void UpdateInterestLocked(PeerConnection conn)
    {
        var interested = picker is not null && conn.PeerHas is not null && picker.IsInteresting(conn.PeerHas);
        if (interested != conn.AmInterested)
        {
            conn.AmInterested = interested;
            conn.Send(interested ? StateMessage.Interested : StateMessage.NotInterested);
        }
    }

    private int UnchokedCountLocked()
    {
        var count = 0;
        foreach (var conn in peers)
        {
            if (!conn.AmChoking && conn != optimistic)
            {
                count++;
            }
        }

        return count;
    }

    private void UnchokeLocked(PeerConnection conn)
    {
        conn.AmChoking = false;
        conn.Send(StateMessage.Unchoke);
    }

    private void ChokeLocked(PeerConnection conn)
    {
        conn.AmChoking = true;
        conn.Send(StateMessage.Choke);
        foreach (var dropped in conn.ClearUploads())
        {
            if (conn.AllowedFastForPeer.Contains(dropped.Piece))
            {
                conn.QueueUpload(dropped);
            }
            else if (conn.FastEnabled)
            {
                // BEP 6: every request gets exactly one answer, so a choke rejects what it drops.
                conn.Send(new BlockMessage(MessageId.RejectRequest, dropped));
            }
        }
    }

    private void OnBlockMessageLocked(PeerConnection conn, BlockMessage message)
    {
        var block = message.Block;
        switch (message.Id)
        {
            case MessageId.Request:
                OnRequestLocked(conn, block);
                break;
            case MessageId.Cancel:
                if (conn.CancelUpload(block) && conn.FastEnabled)
                {
                    conn.Send(new BlockMessage(MessageId.RejectRequest, block));
                }

                break;
            case MessageId.RejectRequest:
                RequireFast(conn, MessageId.RejectRequest);
                if (conn.Outstanding.Remove(block))
                {
                    picker?.Release(conn, block);
                }

                break;
        }
    }

    private void OnRequestLocked(PeerConnection conn, BlockRequest block)
    {
        if (Layout is null || picker is null)
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

        var allowed = picker.Have[block.Piece] && (!conn.AmChoking || conn.AllowedFastForPeer.Contains(block.Piece));
        if (!allowed)
        {
            if (conn.FastEnabled)
            {
                conn.Send(new BlockMessage(MessageId.RejectRequest, block));
            }

            return;
        }

        if (conn.QueuedUploadCount >= Options.MaxQueuedUploads)
        {
            throw new PeerProtocolException($"request flood: more than {Options.MaxQueuedUploads} requests queued");
        }

        conn.QueueUpload(block);
    }

    private void OnPieceLocked(PeerConnection conn, PieceMessage message, ref List<PieceDownload>? finished)
    {
        var block = new BlockRequest(message.Piece, message.Begin, (int)message.Data.Length);
        if (!conn.Outstanding.Remove(block) || picker is null)
        {
            // A block we cancelled or dropped can cross our cancel on the wire; only data never asked for counts.
            if (conn.RecentlyCancelled.Remove(block))
            {
                return;
            }

            if (++conn.UnexpectedBlocks > MaxUnexpectedBlocks)
            {
                throw new PeerProtocolException($"more than {MaxUnexpectedBlocks} blocks we never requested");
            }

            return;
        }

        conn.BytesDown += block.Length;
        Interlocked.Add(ref bytesDown, block.Length);
        TransferMetrics.BytesDown.Add(block.Length);
        conn.LastBlockReceived = Environment.TickCount64;
        cancelScratch.Clear();
        var outcome = picker.Receive(conn, message.Piece, message.Begin, message.Data, cancelScratch, out var done);
        if (outcome == BlockOutcome.Accepted)
        {
            foreach (PeerConnection other in cancelScratch)
            {
                if (other.Outstanding.Remove(block))
                {
                    RememberCancelled(other, block);
                    other.Send(new BlockMessage(MessageId.Cancel, block));
                }
            }
        }

        if (done is not null)
        {
            (finished ??= []).Add(done);
        }

        FillRequestsLocked(conn);
    }

    private static void RememberCancelled(PeerConnection conn, BlockRequest block)
    {
        if (conn.RecentlyCancelled.Count >= 1024)
        {
            conn.RecentlyCancelled.Clear();
        }

        conn.RecentlyCancelled.Add(block);
    }

    private void FillRequestsLocked(PeerConnection conn)
    {
        if (picker is null || conn.PeerHas is null || !conn.AmInterested || picker.Have.IsComplete)
        {
            return;
        }

        IReadOnlySet<int>? only = null;
        if (conn.PeerChoking)
        {
            if (!conn.FastEnabled || conn.AllowedFastFromPeer.Count == 0)
            {
                return;
            }

            only = conn.AllowedFastFromPeer;
        }

        var want = conn.PipelineDepth - conn.Outstanding.Count;
        if (want <= 0)
        {
            return;
        }

        if (conn.Outstanding.Count == 0)
        {
            conn.LastBlockReceived = Environment.TickCount64;
        }

        scratch.Clear();
        picker.Pick(conn, conn.PeerHas, want, scratch, only);
        foreach (var request in scratch)
        {
            conn.Outstanding.Add(request);
            conn.Send(new BlockMessage(MessageId.Request, request));
        }
    }

    private void OnExtendedLocked(PeerConnection conn, ExtendedMessage message)
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
                    conn.PipelineDepth = Math.Min(conn.PipelineDepth, reqq);
                }

                if (handshake.MetadataSize is { } size)
                {
                    metadata?.Offer(size);
                }

                conn.NextPex = Environment.TickCount64 + 1000;
                RequestMetadataLocked(conn);
                RequestPieceLayersLocked(conn);
                break;
            case ExtensionHandshake.UtMetadataId:
                OnMetadataMessageLocked(conn, MetadataMessage.Parse(message.Payload));
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

    private void OnMetadataMessageLocked(PeerConnection conn, MetadataMessage message)
    {
        switch (message.Type)
        {
            case MetadataMessageType.Request:
                var remoteId = conn.RemoteExtensions?.IdOf("ut_metadata");
                if (remoteId is null)
                {
                    return;
                }

                var raw = Info?.RawBytes;
                var offset = message.Piece * MetadataMessage.PieceSize;
                if (raw is { } bytes && offset < bytes.Length)
                {
                    var data = bytes.Slice(offset, Math.Min(MetadataMessage.PieceSize, bytes.Length - offset)).ToArray();
                    conn.Send(new ExtendedMessage(remoteId.Value, new MetadataMessage(MetadataMessageType.Data, message.Piece, bytes.Length, data).Encode()));
                }
                else
                {
                    conn.Send(new ExtendedMessage(remoteId.Value, new MetadataMessage(MetadataMessageType.Reject, message.Piece).Encode()));
                }

                break;
            case MetadataMessageType.Data:
                if (metadata is null || Info is not null || fetchingStorage)
                {
                    return;
                }

                if (metadata.Accept(message) is { } info)
                {
                    fetchingStorage = true;
                    _ = Task.Run(() => OnMetadataAsync(info));
                }
                else
                {
                    RequestMetadataLocked(conn);
                }

                break;
            default:
                break;
        }
    }

    private bool fetchingStorage;

    private async Task OnMetadataAsync(byte[] raw)
    {
        try
        {
            var info = TorrentInfo.Parse(raw);
            if (NeedsPieceLayers(info))
            {
                // BEP 9 metadata carries no piece layers: fetch them from v2 peers first; storage is set up once they verify.
                lock (gate)
                {
                    StartPieceLayerFetchLocked(info);
                }

                return;
            }

            await SetUpStorageAsync(info, stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MetainfoException or Bencoding.BencodeException)
        {
            // The bytes hashed to the info hash yet do not parse: nobody can fix that; fail loudly.
            metadataReady.TrySetException(e);
            completed.TrySetException(e);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void RequestMetadataLocked(PeerConnection conn)
    {
        if (metadata is null || Info is not null || fetchingStorage || conn.RemoteExtensions?.IdOf("ut_metadata") is not { } id)
        {
            return;
        }

        if (metadata.NextRequest(Environment.TickCount64) is { } piece)
        {
            conn.Send(new ExtendedMessage(id, new MetadataMessage(MetadataMessageType.Request, piece).Encode()));
        }
    }
}
