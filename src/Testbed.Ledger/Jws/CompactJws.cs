using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Testbed.Ledger.Jws;

/// <summary>Why a compact JWS was refused before its payload is looked at.</summary>
public enum JwsProblem
{
    None,
    Malformed,
    AlgorithmNotAllowed,
    KidMismatch,
    BadSignature,
}

/// <summary>A compact JWS split into its parts, with the signer's key taken from the <c>jwk</c> header and checked against <c>kid</c>.</summary>
public sealed class CompactJws
{
    /// <summary>The only signature algorithm the ledger accepts for blocks and transactions.</summary>
    public const string Algorithm = "ES256";

    private CompactJws(string token, JsonDocument header, byte[] payload, byte[] signature, int signingInputLength, EcPublicKey key, string kid)
    {
        Token = token;
        Header = header;
        Payload = payload;
        Signature = signature;
        SigningInputLength = signingInputLength;
        Key = key;
        Kid = kid;
    }

    public string Token { get; }

    public JsonDocument Header { get; }

    public byte[] Payload { get; }

    public byte[] Signature { get; }

    public int SigningInputLength { get; }

    public EcPublicKey Key { get; }

    public string Kid { get; }

    /// <summary>
    /// Splits and checks structure, algorithm and kid (kid must be the address of the header's jwk). The signature is
    /// checked separately by <see cref="VerifySignature"/> so a caller can time it in its own span.
    /// </summary>
    public static JwsProblem TryParse(string token, out CompactJws? jws, out string detail)
    {
        try
        {
            return Parse(token, out jws, out detail);
        }
        catch (InvalidOperationException e)
        {
            // A header string escape that is not valid UTF-16 (a lone surrogate) cannot become a .NET string.
            jws = null;
            detail = $"JWS header holds an invalid string: {e.Message}";
            return JwsProblem.Malformed;
        }
    }

    private static JwsProblem Parse(string token, out CompactJws? jws, out string detail)
    {
        jws = null;
        var first = token.IndexOf('.', StringComparison.Ordinal);
        var second = first < 0 ? -1 : token.IndexOf('.', first + 1);
        if (first <= 0 || second < 0 || token.IndexOf('.', second + 1) >= 0)
        {
            detail = "not a compact JWS (three base64url parts separated by dots)";
            return JwsProblem.Malformed;
        }

        if (!TryDecode(token.AsSpan(0, first), out var headerBytes) ||
            !TryDecode(token.AsSpan(first + 1, second - first - 1), out var payload) ||
            !TryDecode(token.AsSpan(second + 1), out var signature))
        {
            detail = "a JWS part is not base64url";
            return JwsProblem.Malformed;
        }

        // JSON strings are read as .NET strings later; bytes that are not UTF-8 must be refused here, not throw there.
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes) || !System.Text.Unicode.Utf8.IsValid(payload))
        {
            detail = "JWS header or payload is not UTF-8";
            return JwsProblem.Malformed;
        }

        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(headerBytes, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            detail = $"JWS header is not JSON: {e.Message}";
            return JwsProblem.Malformed;
        }

        var root = header.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String)
        {
            header.Dispose();
            detail = "JWS header has no alg";
            return JwsProblem.Malformed;
        }

        var algorithm = alg.GetString();
        if (algorithm != Algorithm)
        {
            header.Dispose();
            detail = $"alg '{algorithm}' is not allowed (only {Algorithm})";
            return JwsProblem.AlgorithmNotAllowed;
        }

        if (!root.TryGetProperty("jwk", out var jwk))
        {
            header.Dispose();
            detail = "JWS header has no jwk";
            return JwsProblem.Malformed;
        }

        if (!EcPublicKey.TryFromJwk(jwk, out var key, out var jwkError))
        {
            header.Dispose();
            detail = jwkError;
            return JwsProblem.Malformed;
        }

        if (!root.TryGetProperty("kid", out var kidElement) || kidElement.ValueKind != JsonValueKind.String)
        {
            header.Dispose();
            detail = "JWS header has no kid";
            return JwsProblem.KidMismatch;
        }

        var kid = kidElement.GetString()!;
        if (kid != key!.Address.ToString())
        {
            header.Dispose();
            detail = $"kid '{kid}' is not the address of the header's key ({key.Address})";
            return JwsProblem.KidMismatch;
        }

        jws = new CompactJws(token, header, payload, signature, second, key, kid);
        detail = "";
        return JwsProblem.None;
    }

    /// <summary>Checks the ES256 signature over the ASCII signing input (header.payload).</summary>
    public bool VerifySignature()
    {
        var input = Encoding.ASCII.GetBytes(Token, 0, SigningInputLength);
        return Key.Verify(input, Signature);
    }

    private static bool TryDecode(ReadOnlySpan<char> part, out byte[] bytes)
    {
        bytes = [];
        if (!Base64Url.IsValid(part, out var length))
        {
            return false;
        }

        bytes = new byte[length];
        return Base64Url.TryDecodeFromChars(part, bytes, out var written) && written == length;
    }
}
