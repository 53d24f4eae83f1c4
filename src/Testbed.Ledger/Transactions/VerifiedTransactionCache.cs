using System.Diagnostics.CodeAnalysis;

namespace Testbed.Ledger.Transactions;

/// <summary>
/// Transactions this node already verified in full (structure, ES256 signature, sender = signer), by their exact token,
/// so that a block carrying transactions its mempool admitted does not parse and check them again (Bitcoin Core's
/// signature cache). Bounded in count: past its capacity the entry kept longest leaves. Thread-safe.
/// </summary>
/// <remarks>
/// The key is the whole compact JWS compared ordinally, never a field inside it: a token that differs in any character
/// (header, payload or signature) misses and is verified as before. Only what <see cref="SignedTransaction.Parse"/>
/// returned is kept, so every value is the verified reading of its key.
/// </remarks>
public sealed class VerifiedTransactionCache
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SignedTransaction> _byToken = new(StringComparer.Ordinal);
    private readonly Queue<string> _arrival = new();
    private long _hits;
    private long _misses;

    /// <summary>A cache of at most <paramref name="capacity"/> transactions (0 keeps none: every lookup misses).</summary>
    public VerifiedTransactionCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byToken.Count;
            }
        }
    }

    /// <summary>Lookups that found the token: transactions whose parse and signature check were skipped.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups that did not: transactions verified in full.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>
    /// Keeps a verified transaction. Returns false when it was not kept: already there, no capacity, or not what
    /// <see cref="SignedTransaction.Parse"/> returned (a <c>with</c> copy may carry a token its fields do not come from).
    /// </summary>
    public bool Add(SignedTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (!transaction.IsVerified || Capacity == 0)
        {
            return false;
        }

        lock (_gate)
        {
            if (!_byToken.TryAdd(transaction.Token, transaction))
            {
                return false;
            }

            _arrival.Enqueue(transaction.Token);
            if (_arrival.Count > Capacity)
            {
                _byToken.Remove(_arrival.Dequeue());
            }

            return true;
        }
    }

    /// <summary>The verified transaction of exactly this token, if kept; counts a hit or a miss.</summary>
    public bool TryGet(string token, [NotNullWhen(true)] out SignedTransaction? transaction)
    {
        bool found;
        lock (_gate)
        {
            found = _byToken.TryGetValue(token, out transaction);
        }

        Interlocked.Increment(ref found ? ref _hits : ref _misses);
        return found;
    }
}
