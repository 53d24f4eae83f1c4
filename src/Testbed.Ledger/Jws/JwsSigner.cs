using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Testbed.Ledger.Jws;

/// <summary>Signs a JSON payload as a compact ES256 JWS with Microsoft.IdentityModel.JsonWebTokens; header carries kid and jwk.</summary>
public static class JwsSigner
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public static string Sign(string payloadJson, Wallets.Wallet wallet)
    {
        var credentials = new SigningCredentials(wallet.SecurityKey, SecurityAlgorithms.EcdsaSha256);
        var header = new Dictionary<string, object> { ["jwk"] = wallet.PublicKey.ToJwk() };
        return Handler.CreateToken(payloadJson, credentials, header);
    }
}
