using System.Text;
using System.Text.Json;
using Testbed.Ledger.Jws;
using Testbed.Ledger.Wallets;
using Testbed.Vm;

namespace Testbed.Ledger.Transactions;

/// <summary>Why a transaction was refused, by the codec, the mempool or block validation.</summary>
public enum TransactionRejectionReason
{
    Malformed,
    Oversized,
    AlgorithmNotAllowed,
    KidMismatch,
    BadSignature,
    ReplayedNonce,
    NonceGap,
    VmRejected,
    Duplicate,
    MempoolFull,
}

/// <summary>A refused transaction, with the typed reason and a message naming what was wrong.</summary>
public sealed class TransactionRejectedException(TransactionRejectionReason reason, string detail)
    : Exception($"{reason}: {detail}")
{
    public TransactionRejectionReason Reason { get; } = reason;

    public string Detail { get; } = detail;
}

/// <summary>
/// A contract call signed by its sender: compact ES256 JWS whose header carries kid (sender address) and jwk, and whose
/// payload is {"sender": address, "nonce": n, "actions": [...]}. The id is SHA-256 of the token's ASCII bytes.
/// </summary>
public sealed record SignedTransaction(string Token, Hash256 Id, string Sender, long Nonce, string ActionsJson)
{
    /// <summary>Largest transaction token accepted anywhere.</summary>
    public const int MaxTokenLength = 16 * 1024;

    /// <summary>
    /// The copy a <c>with</c> expression starts from: every field but the mark of <see cref="IsVerified"/>, which a copy
    /// never carries (a test forging a block swaps the token of a good transaction this way).
    /// </summary>
    private SignedTransaction(SignedTransaction original)
    {
        Token = original.Token;
        Id = original.Id;
        Sender = original.Sender;
        Nonce = original.Nonce;
        ActionsJson = original.ActionsJson;
    }

    /// <summary>
    /// True only on what <see cref="Parse"/> returned, whose fields all come from its verified token: the one kind of
    /// transaction a <see cref="VerifiedTransactionCache"/> keeps.
    /// </summary>
    internal bool IsVerified { get; private init; }

    /// <summary>The VM's view: sender and {"actions": [...]}.</summary>
    public VmTransaction ToVm() => new(Sender, "{\"actions\":" + ActionsJson + "}");

    /// <summary>Signs actions (a JSON array) with the wallet as the sender.</summary>
    public static SignedTransaction Create(Wallet wallet, long nonce, string actionsJson)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nonce);
        using var actions = JsonDocument.Parse(actionsJson);
        if (actions.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new ArgumentException("actions must be a JSON array", nameof(actionsJson));
        }

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("sender", wallet.Address);
            writer.WriteNumber("nonce", nonce);
            writer.WritePropertyName("actions");
            actions.RootElement.WriteTo(writer);
            writer.WriteEndObject();
        }

        return Parse(JwsSigner.Sign(Encoding.UTF8.GetString(buffer.ToArray()), wallet));
    }

    /// <summary>Equal when every field is (the verified mark is not compared, as before it existed).</summary>
    public bool Equals(SignedTransaction? other) =>
        other is not null && Token == other.Token && Id == other.Id && Sender == other.Sender && Nonce == other.Nonce && ActionsJson == other.ActionsJson;

    public override int GetHashCode() => HashCode.Combine(Token, Id, Sender, Nonce, ActionsJson);

    /// <summary>Checks structure, algorithm, kid, signature and that the payload's sender is the signer.</summary>
    public static SignedTransaction Parse(string token)
    {
        if (token.Length > MaxTokenLength)
        {
            throw new TransactionRejectedException(TransactionRejectionReason.Oversized, $"transaction is {token.Length} bytes, limit {MaxTokenLength}");
        }

        var problem = CompactJws.TryParse(token, out var jws, out var detail);
        if (problem != JwsProblem.None)
        {
            throw new TransactionRejectedException(problem switch
            {
                JwsProblem.AlgorithmNotAllowed => TransactionRejectionReason.AlgorithmNotAllowed,
                JwsProblem.KidMismatch => TransactionRejectionReason.KidMismatch,
                _ => TransactionRejectionReason.Malformed,
            }, detail);
        }

        using var header = jws!.Header;
        if (!jws.VerifySignature())
        {
            throw new TransactionRejectedException(TransactionRejectionReason.BadSignature, $"transaction signature does not verify for sender {jws.Kid}");
        }

        JsonDocument payload;
        try
        {
            payload = JsonDocument.Parse(jws.Payload, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new TransactionRejectedException(TransactionRejectionReason.Malformed, $"transaction payload is not JSON: {e.Message}");
        }

        try
        {
            var root = payload.RootElement;
            if (root.ValueKind != JsonValueKind.Object ||
                !root.TryGetProperty("sender", out var sender) || sender.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("nonce", out var nonce) || !nonce.TryGetInt64(out var nonceValue) || nonceValue < 0 ||
                !root.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array)
            {
                throw new TransactionRejectedException(TransactionRejectionReason.Malformed, "transaction payload needs sender (string), nonce (integer >= 0) and actions (array)");
            }

            if (sender.GetString() != jws.Kid)
            {
                throw new TransactionRejectedException(TransactionRejectionReason.KidMismatch, $"payload sender {sender.GetString()} is not the signer {jws.Kid}");
            }

            return new SignedTransaction(token, Hash256.Of(Encoding.ASCII.GetBytes(token)), jws.Kid, nonceValue, actions.GetRawText()) { IsVerified = true };
        }
        catch (InvalidOperationException e)
        {
            throw new TransactionRejectedException(TransactionRejectionReason.Malformed, $"transaction payload holds an invalid string: {e.Message}");
        }
        finally
        {
            payload.Dispose();
        }
    }
}
