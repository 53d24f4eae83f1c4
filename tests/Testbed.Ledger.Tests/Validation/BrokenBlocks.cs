namespace Testbed.Ledger.Tests.Validation;

/// <summary>
/// A chain whose tip holds alice's vote on P1 (nonce 0), and a factory of blocks on that tip broken in exactly one way
/// per rejection reason, several variants each.
/// </summary>
public sealed class BrokenBlocks : IDisposable
{
    public const int Variants = 3;
    private readonly TestChain _test = new(peer: "broken-blocks");

    public BrokenBlocks()
    {
        _test.MineAndAdd(Miner, Forge.Vote(Alice, 0, "P1"));
        _test.Clock.Now = _test.Clock.Now.AddSeconds(1);
    }

    internal TestChain Test => _test;

    public Wallet Miner { get; } = Wallet.CreateEphemeral();

    public Wallet Alice { get; } = Wallet.CreateEphemeral();

    public Wallet Mallory { get; } = Wallet.CreateEphemeral();

    public Testbed.Ledger.Chain.Blockchain Chain => _test.Chain;

    /// <summary>A token broken for the given reason (variant picks among ways of breaking it).</summary>
    public string Make(BlockRejectionReason reason, int variant)
    {
        var chain = _test.Chain;
        var parent = chain.GetHeader(chain.Tip.Hash)!;
        switch (reason)
        {
            case BlockRejectionReason.Malformed:
                return (variant % Variants) switch
                {
                    0 => "this is not a JWS",
                    1 => JwsSigner.Sign("""{"version":1,"height":2}""", Miner),
                    _ => "eyJub3QganNvbg." + Forge.Next(chain, Miner).Token.Split('.')[1] + ".AAAA",
                };
            case BlockRejectionReason.Oversized:
                return variant % 2 == 0
                    ? new string('a', _test.Network.MaxBlockBytes + 1 + variant)
                    : Forge.WithTransactions(chain, Miner, Enumerable.Range(0, _test.Network.MaxTransactionsPerBlock + 1).Select(i => Forge.Student(Alice, 1 + i, "S" + i)).ToList()).Token;
            case BlockRejectionReason.AlgorithmNotAllowed:
                return (variant % Variants) switch
                {
                    0 => WithAlgorithmNone(Forge.Next(chain, Miner).Token),
                    1 => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(
                        PayloadOf(Forge.Next(chain, Miner).Token),
                        new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256)),
                    _ => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(
                        PayloadOf(Forge.Next(chain, Miner).Token),
                        new SigningCredentials(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP384)), SecurityAlgorithms.EcdsaSha384)),
                };
            case BlockRejectionReason.KidMismatch:
                return (variant % Variants) switch
                {
                    // kid names Mallory, the jwk and signature are the miner's.
                    0 => SignWith(Miner.SecurityKey.ECDsa, Mallory.Address, Miner.PublicKey, PayloadOf(Forge.Next(chain, Miner).Token)),
                    // kid and jwk are Mallory's, the payload says the miner mined it.
                    1 => JwsSigner.Sign(PayloadOf(Forge.Next(chain, Miner).Token), Mallory),
                    // no kid at all.
                    _ => SignWith(Miner.SecurityKey.ECDsa, null, Miner.PublicKey, PayloadOf(Forge.Next(chain, Miner).Token)),
                };
            case BlockRejectionReason.BadSignature:
                {
                    var good = Forge.Next(chain, Miner).Token;
                    return (variant % Variants) switch
                    {
                        // Signed by Mallory's key but claiming the miner's kid and jwk.
                        0 => SignWith(Mallory.SecurityKey.ECDsa, Miner.Address, Miner.PublicKey, PayloadOf(good)),
                        // The signature of a different block by the same miner.
                        1 => good[..good.LastIndexOf('.')] + SignaturePart(Forge.Next(chain, Miner, tweak: h => h with { TimestampMs = h.TimestampMs + 1 }).Token),
                        // One payload character changed (payload still valid JSON, now a different height string).
                        _ => ReplacePayload(good, PayloadOf(good).Replace("\"timestamp\":", "\"timestamp\": ", StringComparison.Ordinal)),
                    };
                }

            case BlockRejectionReason.InsufficientWork:
                return Forge.Next(chain, Miner, tweak: h => h with { Nonce = (ulong)variant * 1000 }, meetWork: false).Token;
            case BlockRejectionReason.WrongDifficulty:
                return Forge.Next(chain, Miner, tweak: h => h with { DifficultyBits = variant % 2 == 0 ? h.DifficultyBits + 1 : h.DifficultyBits - 1 }).Token;
            case BlockRejectionReason.WrongPreviousHash:
                return Forge.Next(chain, Miner, tweak: h => h with { PreviousHash = Hash256.Of(BitConverter.GetBytes(variant)) }).Token;
            case BlockRejectionReason.WrongHeight:
                return Forge.Next(chain, Miner, tweak: h => h with { Height = variant % 2 == 0 ? h.Height + 1 : h.Height - 1 }).Token;
            case BlockRejectionReason.TimestampOutOfBounds:
                return Forge.Next(chain, Miner, tweak: h => h with
                {
                    TimestampMs = variant % 2 == 0
                        ? parent.TimestampMs - 1 - variant
                        : _test.Clock.Now.ToUnixTimeMilliseconds() + _test.Network.MaxFutureDriftMs + 1 + variant,
                }).Token;
            case BlockRejectionReason.TransactionsRootMismatch:
                return Forge.Next(chain, Miner, [Forge.Vote(Alice, 1, "P2")], h => h with { TransactionsRoot = Hash256.Of(BitConverter.GetBytes(variant)) }).Token;
            case BlockRejectionReason.InvalidTransaction:
                return (variant % 5) switch
                {
                    0 => Forge.WithTransactions(chain, Miner, [Forge.Vote(Alice, 0, "P2")]).Token, // replayed nonce
                    1 => Forge.WithTransactions(chain, Miner, [Forge.Vote(Alice, 5, "P2")]).Token, // nonce gap
                    2 => Forge.WithTransactions(chain, Miner, [Forge.Vote(Alice, 1, "P1")]).Token, // VM: alice already voted on P1
                    3 => Forge.WithTransactions(chain, Miner, [TamperedTransaction(Forge.Vote(Alice, 1, "P2"))]).Token, // bad tx signature
                    _ => Forge.WithTransactions(chain, Miner, Twice(Forge.Vote(Alice, 1, "P2"))).Token, // same tx twice
                };
            case BlockRejectionReason.StateRootMismatch:
                return Forge.Next(chain, Miner, variant % 2 == 0 ? [] : [Forge.Vote(Alice, 1, "P3")], h => h with { StateRoot = Hash256.Of(BitConverter.GetBytes(variant)) }).Token;
            default:
                throw new ArgumentOutOfRangeException(nameof(reason));
        }
    }

    public void Dispose() => _test.Dispose();

    internal static string PayloadOf(string token) => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token.Split('.')[1]));

    private static string SignaturePart(string token) => token[token.LastIndexOf('.')..];

    private static SignedTransaction[] Twice(SignedTransaction tx) => [tx, tx];

    private static string ReplacePayload(string token, string payload)
    {
        var parts = token.Split('.');
        return parts[0] + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload)) + "." + parts[2];
    }

    private static string WithAlgorithmNone(string token)
    {
        var header = Base64Url.EncodeToString("""{"alg":"none","typ":"JWT"}"""u8);
        return header + "." + token.Split('.')[1] + ".";
    }

    private static string SignWith(ECDsa key, string? kid, EcPublicKey jwk, string payload)
    {
        var securityKey = new ECDsaSecurityKey(key);
        if (kid is not null)
        {
            securityKey.KeyId = kid;
        }

        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(payload, new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256), new Dictionary<string, object> { ["jwk"] = jwk.ToJwk() });
    }

    private SignedTransaction TamperedTransaction(SignedTransaction tx)
    {
        // Mallory's signature on alice's transaction, keeping alice's kid and jwk.
        var forged = SignWith(Mallory.SecurityKey.ECDsa, Alice.Address, Alice.PublicKey, PayloadOf(tx.Token));
        return tx with { Token = forged };
    }
}
