using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Testbed.Json;

namespace Testbed.Vm;

/// <summary>An immutable JSON object in canonical form (see CanonicalJson), with its SHA-256 computed once, when decoded.</summary>
public sealed class VmObject
{
    [ThreadStatic]
    private static ArrayBufferWriterLimited? _threadBuffer;

    private VmObject(byte[] canonicalJson)
    {
        CanonicalJson = canonicalJson;
        Hash = SHA256.HashData(canonicalJson);
    }

    /// <summary>The empty object {}.</summary>
    public static VmObject Empty { get; } = new("{}"u8.ToArray());

    /// <summary>The canonical UTF-8 JSON of the object.</summary>
    public ReadOnlyMemory<byte> Json => CanonicalJson;

    /// <summary>SHA-256 of <see cref="Json"/>.</summary>
    public ReadOnlySpan<byte> Sha256 => Hash;

    internal byte[] CanonicalJson { get; }

    internal byte[] Hash { get; }

    /// <summary>Canonicalises a JSON object, leaving out the members named in <paramref name="omit"/>; throws VmRejectedException naming <paramref name="what"/> when it is not an object, too large or malformed.</summary>
    public static VmObject FromElement(JsonElement element, string what, int maxBytes, params string[] omit)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new VmRejectedException($"'{what}' must be a JSON object, got {Describe(element.ValueKind)}");
        }

        // One buffer per thread: decoding allocates only the final canonical bytes.
        var buffer = _threadBuffer ??= new ArrayBufferWriterLimited();
        buffer.Reset(maxBytes, what);
        CanonicalJsonWriter.WriteObject(element, buffer, what, omit);
        return new VmObject(buffer.ToArray());
    }

    /// <summary>Rebuilds an object from canonical bytes this VM wrote (state files and block effects); checks it parses as an object.</summary>
    internal static VmObject FromCanonical(byte[] canonicalJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(canonicalJson, new JsonDocumentOptions { MaxDepth = 64 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException("a stored VM value is not a JSON object");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"a stored VM value is not valid JSON: {e.Message}", e);
        }

        return new VmObject(canonicalJson);
    }

    /// <summary>Parses the canonical JSON (for export).</summary>
    internal JsonDocument Parse() => JsonDocument.Parse(CanonicalJson);

    /// <summary>The canonical JSON as text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(CanonicalJson);

    /// <summary>Reads a JSON string, refusing escapes that decode to invalid UTF-16 (lone surrogates).</summary>
    internal static string ReadString(JsonElement element, string what)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new VmRejectedException($"'{what}' contains a lone surrogate (not valid Unicode text)");
        }
    }

    internal static string Describe(JsonValueKind kind) => JsonKinds.Describe(kind);
}
