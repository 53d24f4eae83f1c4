using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Testbed.Ledger.Jws;
using Testbed.Ledger.ProofOfWork;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Validation;
using Testbed.Ledger.Wallets;

namespace Testbed.Ledger.Blocks;

/// <summary>
/// A block: a compact ES256 JWS by the miner (header kid = miner address, jwk = miner key) whose payload carries every
/// header field (hashes as lowercase hex) and the transaction tokens. Its hash is SHA-256 of the 160-byte header.
/// </summary>
public sealed class Block
{
    /// <summary>Transactions in a block from which their checks run in parallel (below it, handing work to other threads costs more than it saves).</summary>
    private const int ParallelFrom = 8;

    private Block(string token, BlockHeader header, IReadOnlyList<SignedTransaction> transactions)
    {
        Token = token;
        Header = header;
        Hash = header.ComputeHash();
        Transactions = transactions;
    }

    public string Token { get; }

    public BlockHeader Header { get; }

    public Hash256 Hash { get; }

    public long Height => (long)Header.Height;

    public IReadOnlyList<SignedTransaction> Transactions { get; }

    /// <summary>The payload JSON for a header and its transactions, the exact text the miner signs.</summary>
    public static string PayloadJson(BlockHeader header, IReadOnlyList<SignedTransaction> transactions)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", header.Version);
            writer.WriteNumber("height", header.Height);
            writer.WriteString("prev_hash", header.PreviousHash.ToString());
            writer.WriteNumber("timestamp", header.TimestampMs);
            writer.WriteNumber("difficulty", header.DifficultyBits);
            writer.WriteString("transactions_root", header.TransactionsRoot.ToString());
            writer.WriteString("state_root", header.StateRoot.ToString());
            writer.WriteString("miner", header.Miner.ToString());
            writer.WriteNumber("nonce", header.Nonce);
            writer.WriteStartArray("transactions");
            foreach (var tx in transactions)
            {
                writer.WriteStringValue(tx.Token);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Signs a mined header once (span block.sign).</summary>
    public static Block Sign(BlockHeader header, IReadOnlyList<SignedTransaction> transactions, Wallet miner, string peer = "")
    {
        if (header.Miner != miner.PublicKey.Address)
        {
            throw new ArgumentException("the header's miner field is not this wallet's address", nameof(header));
        }

        var hash = header.ComputeHash();
        using var activity = LedgerTelemetry.Source.StartActivity("block.sign");
        activity?.SetTag(LedgerTelemetry.Peer, peer);
        activity?.SetTag(LedgerTelemetry.BlockHash, hash.ToString());
        activity?.SetTag(LedgerTelemetry.JwtAlg, CompactJws.Algorithm);
        var token = JwsSigner.Sign(PayloadJson(header, transactions), miner);
        return new Block(token, header, transactions);
    }

    /// <summary>
    /// Checks everything a block shows by itself, in this order: size, structure, algorithm, kid, payload, miner = kid,
    /// signature, proof of work, transactions root, each transaction's signature. Throws <see cref="BlockRejectedException"/>.
    /// </summary>
    public static Block Verify(string token, int maxBlockBytes, int maxTransactions, string peer = "") =>
        Verify(token, maxBlockBytes, maxTransactions, peer, checkSigner: true, Environment.ProcessorCount, verified: null);

    /// <summary>
    /// <see cref="Verify(string, int, int, string)"/>, but a transaction whose exact token is in <paramref name="verified"/>
    /// is taken from it instead of being parsed and signature-checked again; every other check runs as without it.
    /// </summary>
    public static Block Verify(string token, int maxBlockBytes, int maxTransactions, VerifiedTransactionCache verified, string peer = "") =>
        Verify(token, maxBlockBytes, maxTransactions, peer, checkSigner: true, Environment.ProcessorCount, verified);

    /// <summary>
    /// <see cref="Verify(string, int, int, VerifiedTransactionCache, string)"/>; without <paramref name="checkSigner"/> neither
    /// miner = kid nor the block's signature is checked (only the chain's deliberate <see cref="Chain.ChainDefects.SkipSignatureCheck"/>
    /// defect does that); the transactions not in <paramref name="verified"/> are checked on up to <paramref name="threads"/> threads.
    /// </summary>
    internal static Block Verify(string token, int maxBlockBytes, int maxTransactions, string peer, bool checkSigner, int threads, VerifiedTransactionCache? verified)
    {
        if (token.Length > maxBlockBytes)
        {
            throw new BlockRejectedException(BlockRejectionReason.Oversized, $"block is {token.Length} bytes, limit {maxBlockBytes}");
        }

        var problem = CompactJws.TryParse(token, out var jws, out var detail);
        if (problem != JwsProblem.None)
        {
            throw new BlockRejectedException(problem switch
            {
                JwsProblem.AlgorithmNotAllowed => BlockRejectionReason.AlgorithmNotAllowed,
                JwsProblem.KidMismatch => BlockRejectionReason.KidMismatch,
                _ => BlockRejectionReason.Malformed,
            }, detail);
        }

        using var header = jws!.Header;
        BlockHeader blockHeader;
        List<string> tokens;
        try
        {
            (blockHeader, tokens) = ReadPayload(jws.Payload, maxTransactions);
        }
        catch (InvalidOperationException e)
        {
            // A JSON string escape that is not valid UTF-16 (a lone surrogate) cannot become a .NET string.
            throw Malformed($"payload holds an invalid string: {e.Message}");
        }
        if (checkSigner && blockHeader.Miner != jws.Key.Address)
        {
            throw new BlockRejectedException(BlockRejectionReason.KidMismatch, $"payload miner {blockHeader.Miner} is not the signer {jws.Kid}");
        }

        var hash = blockHeader.ComputeHash();
        using (var activity = LedgerTelemetry.Source.StartActivity("block.verify.signature"))
        {
            activity?.SetTag(LedgerTelemetry.Peer, peer);
            activity?.SetTag(LedgerTelemetry.BlockHash, hash.ToString());
            var ok = !checkSigner || jws.VerifySignature();
            activity?.SetTag(LedgerTelemetry.Result, !checkSigner ? "skipped" : ok ? "ok" : "bad_signature");
            if (!ok)
            {
                throw new BlockRejectedException(BlockRejectionReason.BadSignature, $"block signature does not verify for miner {jws.Kid}");
            }
        }

        using (var activity = LedgerTelemetry.Source.StartActivity("block.verify.pow"))
        {
            activity?.SetTag(LedgerTelemetry.Peer, peer);
            activity?.SetTag(LedgerTelemetry.BlockHash, hash.ToString());
            var bits = ProofOfWorkSearch.LeadingZeroBits(hash.Span);
            var ok = bits >= blockHeader.DifficultyBits;
            activity?.SetTag(LedgerTelemetry.Result, ok ? "ok" : "insufficient_work");
            if (!ok)
            {
                throw new BlockRejectedException(BlockRejectionReason.InsufficientWork, $"block hash {hash} has {bits} leading zero bits, difficulty {blockHeader.DifficultyBits}");
            }
        }

        var root = TransactionsRoot.Compute(tokens);
        if (root != blockHeader.TransactionsRoot)
        {
            throw new BlockRejectedException(BlockRejectionReason.TransactionsRootMismatch, $"transactions hash to {root}, header says {blockHeader.TransactionsRoot}");
        }

        var transactions = new List<SignedTransaction>(tokens.Count);
        using (var activity = LedgerTelemetry.Source.StartActivity("block.verify.transactions"))
        {
            activity?.SetTag(LedgerTelemetry.Peer, peer);
            activity?.SetTag(LedgerTelemetry.BlockHash, hash.ToString());
            var parsed = ParseTransactions(tokens, threads, verified, out var hits);
            if (verified is not null)
            {
                activity?.SetTag(LedgerTelemetry.TxCacheHits, hits);
                activity?.SetTag(LedgerTelemetry.TxCacheMisses, tokens.Count - hits);
            }

            var seen = new HashSet<Hash256>();
            for (var i = 0; i < tokens.Count; i++)
            {
                // In block order, so the first bad transaction is the one named, however the checks were spread.
                if (parsed[i].Error is TransactionRejectedException e)
                {
                    activity?.SetTag(LedgerTelemetry.Result, "invalid_transaction");
                    throw new BlockRejectedException(BlockRejectionReason.InvalidTransaction, $"transaction {i}: {e.Message}");
                }

                if (parsed[i].Error is { } unexpected)
                {
                    // Whatever else a check threw leaves as it would have from a loop on this thread.
                    ExceptionDispatchInfo.Throw(unexpected);
                }

                var tx = parsed[i].Transaction!;
                if (!seen.Add(tx.Id))
                {
                    activity?.SetTag(LedgerTelemetry.Result, "invalid_transaction");
                    throw new BlockRejectedException(BlockRejectionReason.InvalidTransaction, $"transaction {i}: {TransactionRejectionReason.Duplicate}: appears twice in the block");
                }

                transactions.Add(tx);
            }

            activity?.SetTag(LedgerTelemetry.Result, "ok");
        }

        return new Block(token, blockHeader, transactions);
    }

    /// <summary>
    /// Parses and signature-checks every transaction token not already in <paramref name="verified"/> (those, counted in
    /// <paramref name="hits"/>, are taken as they are). A block's transactions are independent of one another, and
    /// their ES256 checks are most of a full block's verification, so from <see cref="ParallelFrom"/> of them left to check
    /// on they are spread over the cores (a receiver and a catching-up peer verify a block with every core, not one).
    /// </summary>
    private static (SignedTransaction? Transaction, Exception? Error)[] ParseTransactions(
        List<string> tokens, int threads, VerifiedTransactionCache? verified, out int hits)
    {
        var parsed = new (SignedTransaction?, Exception?)[tokens.Count];
        var unverified = new List<int>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (verified is not null && verified.TryGet(tokens[i], out var known))
            {
                parsed[i] = (known, null);
            }
            else
            {
                unverified.Add(i);
            }
        }

        hits = tokens.Count - unverified.Count;
        void Parse(int u)
        {
            var i = unverified[u];
            try
            {
                parsed[i] = (SignedTransaction.Parse(tokens[i]), null);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                parsed[i] = (null, e);
            }
        }

        if (unverified.Count >= ParallelFrom && threads > 1)
        {
            Parallel.For(0, unverified.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, Parse);
        }
        else
        {
            for (var u = 0; u < unverified.Count; u++)
            {
                Parse(u);
            }
        }

        return parsed;
    }

    private static (BlockHeader Header, List<string> Tokens) ReadPayload(byte[] payload, int maxTransactions)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Malformed($"payload is not JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Malformed("payload is not a JSON object");
            }

            var version = ReadUInt32(root, "version");
            if (version != BlockHeader.CurrentVersion)
            {
                throw Malformed($"version {version} is not {BlockHeader.CurrentVersion}");
            }

            var header = new BlockHeader(
                version,
                ReadUInt64(root, "height"),
                ReadHash(root, "prev_hash"),
                ReadInt64(root, "timestamp"),
                ReadUInt32(root, "difficulty"),
                ReadHash(root, "transactions_root"),
                ReadHash(root, "state_root"),
                ReadHash(root, "miner"),
                ReadUInt64(root, "nonce"));
            if (header.DifficultyBits > 256)
            {
                throw Malformed($"difficulty {header.DifficultyBits} is more than 256 bits");
            }

            if (!root.TryGetProperty("transactions", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw Malformed("payload has no transactions array");
            }

            if (list.GetArrayLength() > maxTransactions)
            {
                throw new BlockRejectedException(BlockRejectionReason.Oversized, $"block has {list.GetArrayLength()} transactions, limit {maxTransactions}");
            }

            var tokens = new List<string>();
            foreach (var item in list.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    throw Malformed("a transaction is not a string");
                }

                tokens.Add(item.GetString()!);
            }

            return (header, tokens);
        }
    }

    private static BlockRejectedException Malformed(string detail) => new(BlockRejectionReason.Malformed, detail);

    private static JsonElement Field(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value : throw Malformed($"payload has no '{name}'");

    private static uint ReadUInt32(JsonElement root, string name) =>
        Field(root, name).ValueKind == JsonValueKind.Number && Field(root, name).TryGetUInt32(out var v) ? v : throw Malformed($"'{name}' is not an unsigned 32-bit integer");

    private static ulong ReadUInt64(JsonElement root, string name) =>
        Field(root, name).ValueKind == JsonValueKind.Number && Field(root, name).TryGetUInt64(out var v) ? v : throw Malformed($"'{name}' is not an unsigned 64-bit integer");

    private static long ReadInt64(JsonElement root, string name) =>
        Field(root, name).ValueKind == JsonValueKind.Number && Field(root, name).TryGetInt64(out var v) ? v : throw Malformed($"'{name}' is not a 64-bit integer");

    private static Hash256 ReadHash(JsonElement root, string name)
    {
        var value = Field(root, name);
        return value.ValueKind == JsonValueKind.String && Hash256.TryParse(value.GetString(), out var hash)
            ? hash
            : throw Malformed($"'{name}' is not 64 lowercase hex digits");
    }
}
