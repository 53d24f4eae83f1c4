using System.Buffers;
using Testbed.Torrent.Messages;
using Testbed.Torrent.PeerWire;
using Testbed.Torrent.Storage;

namespace Testbed.Torrent.PiecePicking;

/// <summary>
/// Chooses which blocks to request from which peer: pieces already started first (to finish them), then the
/// rarest piece among those the peer has (random among equals), then, once nothing is left unrequested,
/// endgame duplicates. Not thread-safe: the session calls it under its lock.
/// </summary>
public sealed class PiecePicker
{
    /// <summary>Most peers that may hold a request for the same block in endgame.</summary>
    public const int MaxEndgameRequesters = 2;

    private readonly TorrentLayout _layout;
    private readonly Bitfield _have;
    private readonly int[] _availability;
    private readonly Dictionary<int, PieceDownload> _active = [];
    private readonly HashSet<int> _retryExclusive = [];
    private readonly HashSet<int> _verifying = [];
    private readonly Random _random = new();

    /// <summary>Creates a picker for a layout, given the pieces already verified.</summary>
    public PiecePicker(TorrentLayout layout, Bitfield have)
    {
        _layout = layout;
        _have = have;
        _availability = new int[layout.PieceCount];
    }

    /// <summary>Pieces we have (verified).</summary>
    public Bitfield Have => _have;

    /// <summary>Pieces being assembled right now.</summary>
    public int ActiveCount => _active.Count;

    /// <summary>Copies of each piece among connected peers.</summary>
    public int AvailabilityOf(int piece) => _availability[piece];

    /// <summary>Adds a peer's bitfield to the availability counts.</summary>
    public void AddAvailability(Bitfield peerHas)
    {
        for (var i = 0; i < _availability.Length; i++)
        {
            if (peerHas[i])
            {
                _availability[i]++;
            }
        }
    }

    /// <summary>Removes a departing peer's bitfield from the availability counts.</summary>
    public void RemoveAvailability(Bitfield peerHas)
    {
        for (var i = 0; i < _availability.Length; i++)
        {
            if (peerHas[i] && _availability[i] > 0)
            {
                _availability[i]--;
            }
        }
    }

    /// <summary>Counts one more copy of a piece (a have message).</summary>
    public void AddAvailability(int piece) => _availability[piece]++;

    /// <summary>True when the peer has a piece we lack.</summary>
    public bool IsInteresting(Bitfield peerHas)
    {
        if (_have.IsComplete)
        {
            return false;
        }

        for (var i = 0; i < _have.Length; i++)
        {
            if (peerHas[i] && !_have[i])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Picks up to <paramref name="max"/> blocks for <paramref name="peer"/> and marks them requested.
    /// <paramref name="onlyPieces"/> restricts the choice (allowed-fast pieces while choked).
    /// </summary>
    public int Pick(object peer, Bitfield peerHas, int max, List<BlockRequest> into, IReadOnlySet<int>? onlyPieces = null)
    {
        var picked = 0;
        bool Allowed(int piece) => peerHas[piece] && (onlyPieces is null || onlyPieces.Contains(piece));

        // 1. Finish what is started: fewer partial pieces in memory, pieces verified and shared sooner.
        foreach (var download in _active.Values)
        {
            if (picked >= max)
            {
                return picked;
            }

            if (!Allowed(download.Piece) || (download.ExclusivePeer is { } owner && owner != peer))
            {
                continue;
            }

            picked += TakeFree(download, peer, max - picked, into);
        }

        // 2. Start the rarest pieces this peer has.
        while (picked < max)
        {
            var piece = RarestNewPiece(peerHas, onlyPieces);
            if (piece < 0)
            {
                break;
            }

            var exclusive = _retryExclusive.Remove(piece) ? peer : null;
            var download = new PieceDownload(piece, _layout.LengthOf(piece), _layout.BlockCountOf(piece), exclusive);
            _active.Add(piece, download);
            picked += TakeFree(download, peer, max - picked, into);
        }

        // 3. Endgame: everything is requested, so ask a second peer for blocks still outstanding elsewhere.
        if (picked < max && IsEndgame())
        {
            foreach (var download in _active.Values)
            {
                if (!Allowed(download.Piece) || download.ExclusivePeer is not null)
                {
                    continue;
                }

                for (var b = 0; b < download.States.Length && picked < max; b++)
                {
                    var requesters = download.Requesters[b];
                    if (download.States[b] == BlockState.Requested && requesters is not null
                        && requesters.Count < MaxEndgameRequesters && !requesters.Contains(peer))
                    {
                        requesters.Add(peer);
                        into.Add(BlockOf(download, b));
                        picked++;
                    }
                }
            }
        }

        return picked;
    }

    /// <summary>True when no block is left that nobody has requested: the endgame.</summary>
    public bool IsEndgame()
    {
        if (_have.Count + _active.Count + _verifying.Count < _have.Length)
        {
            return false;
        }

        foreach (var download in _active.Values)
        {
            foreach (var state in download.States)
            {
                if (state == BlockState.Free)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private int TakeFree(PieceDownload download, object peer, int max, List<BlockRequest> into)
    {
        var taken = 0;
        for (var b = 0; b < download.States.Length && taken < max; b++)
        {
            if (download.States[b] == BlockState.Free)
            {
                download.States[b] = BlockState.Requested;
                (download.Requesters[b] ??= []).Add(peer);
                into.Add(BlockOf(download, b));
                taken++;
            }
        }

        return taken;
    }

    private BlockRequest BlockOf(PieceDownload download, int block)
    {
        var begin = block * BlockRequest.StandardLength;
        return new BlockRequest(download.Piece, begin, Math.Min(BlockRequest.StandardLength, download.Length - begin));
    }

    private int RarestNewPiece(Bitfield peerHas, IReadOnlySet<int>? onlyPieces)
    {
        var best = -1;
        var bestAvailability = int.MaxValue;
        var ties = 0;
        var start = _random.Next(_availability.Length);
        for (var k = 0; k < _availability.Length; k++)
        {
            var i = start + k;
            if (i >= _availability.Length)
            {
                i -= _availability.Length;
            }

            if (!peerHas[i] || _have[i] || _active.ContainsKey(i) || _verifying.Contains(i) || (onlyPieces is not null && !onlyPieces.Contains(i)))
            {
                continue;
            }

            var a = _availability[i];
            if (a < bestAvailability)
            {
                best = i;
                bestAvailability = a;
                ties = 1;
            }
            else if (a == bestAvailability && _random.Next(++ties) == 0)
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>
    /// Stores a received block. Returns the download when it completed the piece (the caller verifies it and then
    /// calls <see cref="Verified"/> or <see cref="Failed"/>). <paramref name="cancelFor"/> receives other peers
    /// that had requested the same block (endgame), who should get a cancel.
    /// </summary>
    public BlockOutcome Receive(object peer, int piece, int begin, ReadOnlySequence<byte> data, List<object> cancelFor, out PieceDownload? completed)
    {
        completed = null;
        if (!_active.TryGetValue(piece, out var download) || begin % BlockRequest.StandardLength != 0)
        {
            return BlockOutcome.Unexpected;
        }

        var block = begin / BlockRequest.StandardLength;
        if (block >= download.States.Length || data.Length != BlockOf(download, block).Length)
        {
            return BlockOutcome.Unexpected;
        }

        var requesters = download.Requesters[block];
        if (download.States[block] == BlockState.Received)
        {
            requesters?.Remove(peer);
            return BlockOutcome.Duplicate;
        }

        // Unrequested data is refused: a peer cannot push blocks we never asked it for.
        if (requesters is null || !requesters.Contains(peer))
        {
            return BlockOutcome.Unexpected;
        }

        data.CopyTo(download.Space[begin..]);
        download.States[block] = BlockState.Received;
        download.Received++;
        download.Contributors.Add(peer);
        foreach (var other in requesters)
        {
            if (other != peer)
            {
                cancelFor.Add(other);
            }
        }

        download.Requesters[block] = null;
        if (download.IsComplete)
        {
            _active.Remove(piece);
            _verifying.Add(piece);
            completed = download;
        }

        return BlockOutcome.Accepted;
    }

    /// <summary>Records a verified piece.</summary>
    public void Verified(PieceDownload download)
    {
        _verifying.Remove(download.Piece);
        _have.Set(download.Piece);
    }

    /// <summary>Puts a piece that failed its hash back to be fetched again, from a single peer if several sent it.</summary>
    public void Failed(PieceDownload download)
    {
        _verifying.Remove(download.Piece);
        if (download.Contributors.Count > 1)
        {
            _retryExclusive.Add(download.Piece);
        }
    }

    /// <summary>Forgets one outstanding request of a peer (rejected, cancelled, timed out).</summary>
    public void Release(object peer, BlockRequest request)
    {
        if (!_active.TryGetValue(request.Piece, out var download) || request.Begin % BlockRequest.StandardLength != 0)
        {
            return;
        }

        var block = request.Begin / BlockRequest.StandardLength;
        if (block >= download.States.Length || download.States[block] != BlockState.Requested)
        {
            return;
        }

        var requesters = download.Requesters[block];
        requesters?.Remove(peer);
        if (requesters is null || requesters.Count == 0)
        {
            download.States[block] = BlockState.Free;
            download.Requesters[block] = null;
        }

        if (download.ExclusivePeer == peer && !HasRequests(download))
        {
            // The exclusive peer stopped serving the piece: start it over with the next single peer.
            _active.Remove(download.Piece);
            _retryExclusive.Add(download.Piece);
            download.ReleaseBuffer();
        }
    }

    private static bool HasRequests(PieceDownload download)
    {
        foreach (var state in download.States)
        {
            if (state == BlockState.Requested)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>What became of a received block.</summary>
public enum BlockOutcome
{
    /// <summary>Stored; it may have completed the piece.</summary>
    Accepted,

    /// <summary>Already received from another peer (endgame); harmless.</summary>
    Duplicate,

    /// <summary>Not requested from this peer, wrong size or out of range.</summary>
    Unexpected,
}
