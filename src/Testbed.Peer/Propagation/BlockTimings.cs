using Testbed.Ledger;

namespace Testbed.Peer.Propagation;

/// <summary>When each recent block was mined here or accepted here (unix ms), the peer's own timing report for benchmarks.</summary>
public sealed class BlockTimings
{
    private const int Capacity = 20_000;
    private readonly Lock _gate = new();
    private readonly Dictionary<Hash256, BlockTiming> _byHash = [];
    private readonly Queue<Hash256> _order = new();

    /// <summary>Records a block this peer mined: its nonce found (and the block signed) at <paramref name="foundAtMs"/>, stored here at <paramref name="storedAtMs"/>.</summary>
    public void Mined(Hash256 hash, long height, long foundAtMs, long storedAtMs, string? traceId = null) =>
        Record(new BlockTiming(hash.ToString(), height, foundAtMs, storedAtMs, "mined", TraceId: traceId));

    /// <summary>Records a block accepted from the network (after download, verification and replay).</summary>
    public void Accepted(Hash256 hash, long height, long nowMs, string via, double? downloadMs = null, double? applyMs = null, string? traceId = null) =>
        Record(new BlockTiming(hash.ToString(), height, null, nowMs, via, downloadMs, applyMs, traceId));

    /// <summary>Timings recorded since a unix ms time.</summary>
    public IReadOnlyList<BlockTiming> Since(long sinceMs)
    {
        lock (_gate)
        {
            return [.. _byHash.Values.Where(t => t.AcceptedAtMs >= sinceMs).OrderBy(t => t.AcceptedAtMs)];
        }
    }

    private void Record(BlockTiming timing)
    {
        var hash = Hash256.Parse(timing.Hash);
        lock (_gate)
        {
            if (!_byHash.TryAdd(hash, timing))
            {
                return;
            }

            _order.Enqueue(hash);
            while (_order.Count > Capacity)
            {
                _byHash.Remove(_order.Dequeue());
            }
        }
    }
}

/// <summary>One block's timing at one peer: minedAtMs (nonce found) only on its miner, whose acceptedAtMs is when it stored the block; via is "mined", "announce" or "sync"; for announced blocks the torrent download and the verify+replay+store times; the trace the block travelled in.</summary>
public sealed record BlockTiming(string Hash, long Height, long? MinedAtMs, long AcceptedAtMs, string Via, double? DownloadMs = null, double? ApplyMs = null, string? TraceId = null);
