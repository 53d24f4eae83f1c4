using Testbed.Contracts.Peers;
using Testbed.Ledger;
using Testbed.Ledger.Chain;

namespace Testbed.Peer.Audit;

/// <summary>
/// Every block the peer's chain took or refused since the process started, in order, for the chaos history: it tells a
/// block kept across a crash (loaded) from one fetched again (sync), and keeps a block accepted and later reorganised away.
/// Bounded: the oldest entries go first beyond <see cref="Capacity"/> (a reader sees it in the first sequence number).
/// </summary>
public sealed class BlockLog
{
    /// <summary>Most entries kept.</summary>
    public const int Capacity = 100_000;

    private readonly Lock _gate = new();
    private readonly Queue<BlockLogEntry> _entries = new();
    private long _lastSeq;

    /// <summary>This process's id: a reader that sees it change knows the peer restarted, and starts reading from 1.</summary>
    public string Boot { get; } = Guid.NewGuid().ToString("n")[..16];

    /// <summary>When this process started its log, unix milliseconds.</summary>
    public long StartedAtMs { get; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>The last sequence number written (0: none yet).</summary>
    public long LastSeq => Interlocked.Read(ref _lastSeq);

    /// <summary>Records every block the chain holds right after it was opened, before the peer talks to anyone.</summary>
    public void Loaded(IEnumerable<IndexedBlock> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        foreach (var block in blocks)
        {
            Append(block.Hash.ToString(), block.Height, "loaded", "Loaded", true, null, null);
        }
    }

    /// <summary>Records what the chain answered for a block; duplicates are not recorded (they change nothing).</summary>
    public void Add(Hash256 hash, long height, string via, AddBlockResult result, string? from = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Status == AddBlockStatus.Duplicate)
        {
            return;
        }

        var accepted = result.Status is AddBlockStatus.Connected or AddBlockStatus.SideBranch or AddBlockStatus.Reorganized;
        var reason = result.Status == AddBlockStatus.Rejected ? $"{result.Reason}: {result.Detail}" : null;
        Append(hash.ToString(), height, via, result.Status.ToString(), accepted, reason is { Length: > 300 } ? reason[..300] : reason, from);
    }

    /// <summary>Entries after <paramref name="seq"/>, at most <paramref name="max"/>, and the oldest sequence number still kept.</summary>
    public (IReadOnlyList<BlockLogEntry> Entries, long FirstSeq) After(long seq, int max)
    {
        lock (_gate)
        {
            var first = _entries.Count > 0 ? _entries.Peek().Seq : _lastSeq + 1;
            return ([.. _entries.SkipWhile(e => e.Seq <= seq).Take(max)], first);
        }
    }

    private void Append(string hash, long height, string via, string status, bool accepted, string? reason, string? from)
    {
        lock (_gate)
        {
            var entry = new BlockLogEntry(_lastSeq + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), hash, height, via, status, accepted, reason, from);
            _entries.Enqueue(entry);
            Interlocked.Exchange(ref _lastSeq, entry.Seq);
            while (_entries.Count > Capacity)
            {
                _entries.Dequeue();
            }
        }
    }
}
