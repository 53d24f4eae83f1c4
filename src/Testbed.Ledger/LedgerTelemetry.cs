using System.Diagnostics;

namespace Testbed.Ledger;

/// <summary>The ledger's ActivitySource ("Testbed.Ledger") and the span and attribute names of DESIGN.md.</summary>
public static class LedgerTelemetry
{
    public const string SourceName = "Testbed.Ledger";

    public static readonly ActivitySource Source = new(SourceName);

    public const string Peer = "testbed.peer";
    public const string BlockHeight = "block.height";
    public const string BlockHash = "block.hash";
    public const string DifficultyBits = "pow.difficulty_bits";
    public const string Attempts = "pow.attempts";
    public const string JwtAlg = "jwt.alg";
    public const string Result = "result";
    public const string ReorgDepth = "reorg.depth";
    public const string OldTip = "chain.old_tip";
    public const string NewTip = "chain.new_tip";

    /// <summary>On <c>block.verify.transactions</c>: transactions found in the chain's verified-transaction cache (not checked again).</summary>
    public const string TxCacheHits = "tx_cache.hits";

    /// <summary>On <c>block.verify.transactions</c>: transactions not in it, parsed and signature-checked.</summary>
    public const string TxCacheMisses = "tx_cache.misses";
}
