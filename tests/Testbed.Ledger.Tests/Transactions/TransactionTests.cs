namespace Testbed.Ledger.Tests.Transactions;

public sealed class TransactionTests
{
    private static readonly Wallet Alice = Wallet.CreateEphemeral();
    private static readonly Wallet Mallory = Wallet.CreateEphemeral();

    [Fact]
    public void A_signed_transaction_round_trips_and_names_its_sender()
    {
        var tx = SignedTransaction.Create(Alice, 7, """[{"action":"add_course","course":{"id":"C1","name":"N","department":"D"}}]""");
        var parsed = SignedTransaction.Parse(tx.Token);
        Assert.Equal(Alice.Address, parsed.Sender);
        Assert.Equal(7, parsed.Nonce);
        Assert.Equal(tx.Id, parsed.Id);
        Assert.Equal(Alice.Address, parsed.ToVm().Sender);
        Assert.StartsWith("{\"actions\":[{\"action\":\"add_course\"", parsed.ToVm().ContractJson, StringComparison.Ordinal);
        var header = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(tx.Token.Split('.')[0]));
        Assert.Contains("\"alg\":\"ES256\"", header, StringComparison.Ordinal);
        Assert.Contains($"\"kid\":\"{Alice.Address}\"", header, StringComparison.Ordinal);
    }

    [Fact]
    public void Forged_or_disowned_transactions_are_refused_with_their_reason()
    {
        var tx = SignedTransaction.Create(Alice, 0, "[]");
        var payload = tx.Token.Split('.')[1];

        // Mallory signs claiming alice's kid and key.
        var forged = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(
            Encoding.UTF8.GetString(Base64Url.DecodeFromChars(payload)),
            new SigningCredentials(new ECDsaSecurityKey(Mallory.SecurityKey.ECDsa) { KeyId = Alice.Address }, SecurityAlgorithms.EcdsaSha256),
            new Dictionary<string, object> { ["jwk"] = Alice.PublicKey.ToJwk() });
        Assert.Equal(TransactionRejectionReason.BadSignature, Reason(forged));

        // Mallory signs with her own key a payload saying alice sent it.
        var disowned = JwsSigner.Sign(Encoding.UTF8.GetString(Base64Url.DecodeFromChars(payload)), Mallory);
        Assert.Equal(TransactionRejectionReason.KidMismatch, Reason(disowned));

        var none = Base64Url.EncodeToString("""{"alg":"none"}"""u8) + "." + payload + ".";
        Assert.Equal(TransactionRejectionReason.AlgorithmNotAllowed, Reason(none));
        var hs = new JsonWebTokenHandler().CreateToken("{}", new SigningCredentials(new SymmetricSecurityKey(new byte[32]), SecurityAlgorithms.HmacSha256));
        Assert.Equal(TransactionRejectionReason.AlgorithmNotAllowed, Reason(hs));

        Assert.Equal(TransactionRejectionReason.Malformed, Reason("a.b"));
        Assert.Equal(TransactionRejectionReason.Malformed, Reason(JwsSigner.Sign("""{"sender":"x"}""", Alice)));
        Assert.Equal(TransactionRejectionReason.Malformed, Reason(JwsSigner.Sign($$"""{"sender":"{{Alice.Address}}","nonce":-1,"actions":[]}""", Alice)));
        Assert.Equal(TransactionRejectionReason.Oversized, Reason(new string('x', SignedTransaction.MaxTokenLength + 1)));
    }

    /// <summary>Changing any one character of a transaction never yields a different valid transaction.</summary>
    [Property(MaxTest = 200)]
    public bool A_tampered_transaction_is_refused_or_unchanged(ushort position, char replacement)
    {
        var tx = SignedTransaction.Create(Alice, 3, """[{"action":"generate_nft","nft":{"id":"N1","name":"x"}}]""");
        var index = position % tx.Token.Length;
        var tampered = tx.Token[..index] + replacement + tx.Token[(index + 1)..];
        try
        {
            var parsed = SignedTransaction.Parse(tampered);
            return parsed.Sender == tx.Sender && parsed.Nonce == tx.Nonce && parsed.ActionsJson == tx.ActionsJson;
        }
        catch (TransactionRejectedException)
        {
            return true;
        }
    }

    private static TransactionRejectionReason Reason(string token) =>
        Assert.Throws<TransactionRejectedException>(() => SignedTransaction.Parse(token)).Reason;
}
