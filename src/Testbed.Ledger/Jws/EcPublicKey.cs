using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Testbed.Ledger.Jws;

/// <summary>A P-256 public key as carried in a JWS header's <c>jwk</c> member; its address is SHA-256 of the uncompressed point.</summary>
public sealed class EcPublicKey
{
    private readonly byte[] _x;
    private readonly byte[] _y;
    private ECDsa? _verifier;

    // Importing a public key (with its on-curve check) costs more than verifying with it, and a network has few
    // miners and senders: each thread keeps the keys it imported, by address, up to a bound.
    private const int MaxCachedKeys = 512;
    [ThreadStatic]
    private static Dictionary<Hash256, ECDsa>? _importedKeys;

    private EcPublicKey(byte[] x, byte[] y, ECDsa? verifier = null)
    {
        _x = x;
        _y = y;
        _verifier = verifier;
        Address = AddressOf(x, y);
    }

    private static Hash256 AddressOf(byte[] x, byte[] y)
    {
        Span<byte> point = stackalloc byte[65];
        point[0] = 0x04;
        x.CopyTo(point[1..]);
        y.CopyTo(point[33..]);
        return Hash256.Of(point);
    }

    /// <summary>SHA-256 of the SEC1 uncompressed point 0x04 || X || Y; the wallet address is its lowercase hex.</summary>
    public Hash256 Address { get; }

    public static EcPublicKey FromParameters(ECParameters parameters)
    {
        if (parameters.Q.X is not { Length: 32 } qx || parameters.Q.Y is not { Length: 32 } qy)
        {
            throw new ArgumentException("not a P-256 public key", nameof(parameters));
        }

        return new EcPublicKey(qx, qy);
    }

    /// <summary>Reads a <c>jwk</c> header member: kty EC, crv P-256, x and y of 32 bytes each, a point on the curve.</summary>
    public static bool TryFromJwk(JsonElement jwk, out EcPublicKey? key, out string error)
    {
        key = null;
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            error = "jwk is not an object";
            return false;
        }

        if (!jwk.TryGetProperty("kty", out var kty) || kty.ValueKind != JsonValueKind.String || kty.GetString() != "EC" ||
            !jwk.TryGetProperty("crv", out var crv) || crv.ValueKind != JsonValueKind.String || crv.GetString() != "P-256")
        {
            error = "jwk is not an EC P-256 key";
            return false;
        }

        if (!TryCoordinate(jwk, "x", out var x) || !TryCoordinate(jwk, "y", out var y))
        {
            error = "jwk x/y are not 32-byte base64url coordinates";
            return false;
        }

        var address = AddressOf(x, y);
        _importedKeys ??= [];
        if (_importedKeys.TryGetValue(address, out var known))
        {
            key = new EcPublicKey(x, y, known);
            error = "";
            return true;
        }

        ECDsa ecdsa;
        try
        {
            // Importing checks that the point is on the curve; an invalid point must not reach verification. The
            // imported key is kept for Verify, since importing costs as much as verifying.
            ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
        }
        catch (CryptographicException)
        {
            error = "jwk point is not on P-256";
            return false;
        }

        if (_importedKeys.Count >= MaxCachedKeys)
        {
            // Dropped keys are not disposed: another EcPublicKey on this thread may still verify with them.
            _importedKeys.Clear();
        }

        _importedKeys[address] = ecdsa;
        key = new EcPublicKey(x, y, ecdsa);
        error = "";
        return true;
    }

    private static bool TryCoordinate(JsonElement jwk, string name, out byte[] value)
    {
        value = [];
        if (!jwk.TryGetProperty(name, out var e) || e.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        var text = e.GetString()!;
        if (text.Length != 43)
        {
            return false;
        }

        var buffer = new byte[33];
        if (!Base64Url.TryDecodeFromChars(text, buffer, out var written) || written != 32)
        {
            return false;
        }

        value = buffer[..32];
        return true;
    }

    /// <summary>The <c>jwk</c> header member for this key.</summary>
    public Dictionary<string, object> ToJwk() => new()
    {
        ["kty"] = "EC",
        ["crv"] = "P-256",
        ["x"] = Base64Url.EncodeToString(_x),
        ["y"] = Base64Url.EncodeToString(_y),
    };

    /// <summary>Checks an ES256 (IEEE P1363 r||s) signature over the given bytes.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 64)
        {
            return false;
        }

        _verifier ??= ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = _x, Y = _y } });
        return _verifier.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
