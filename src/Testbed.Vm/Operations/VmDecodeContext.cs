using System.Text;
using System.Text.Json;

namespace Testbed.Vm;

/// <summary>What an operation needs to decode an action: the mode, the limits, the sender, and field readers that fail with clear errors.</summary>
public sealed class VmDecodeContext(VmMode mode, VmOptions options, string sender)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Rule set in force.</summary>
    public VmMode Mode { get; } = mode;

    /// <summary>Limits in force.</summary>
    public VmOptions Options { get; } = options;

    /// <summary>Sender address (validated lowercase hex in native mode).</summary>
    public string Sender { get; } = sender;

    /// <summary>In native mode, refuses any field not listed; the seed ignored extra fields, so seed mode does too.</summary>
    public void RejectUnknownFields(JsonElement action, params string[] allowed)
    {
        if (Mode != VmMode.Native)
        {
            return;
        }

        foreach (var property in action.EnumerateObject())
        {
            // NameEquals compares the raw UTF-8 name: no string per field on the hot path.
            if (!property.NameEquals("action") && !IsAllowed(property, allowed))
            {
                throw new VmRejectedException($"unexpected field '{property.Name}' (allowed: {string.Join(", ", allowed)})");
            }
        }
    }

    private static bool IsAllowed(JsonProperty property, string[] allowed)
    {
        foreach (var name in allowed)
        {
            if (property.NameEquals(name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads a required field of any type.</summary>
    public JsonElement Require(JsonElement parent, string field, string where)
    {
        if (!parent.TryGetProperty(field, out var value))
        {
            throw new VmRejectedException($"missing field '{field}' in {where}");
        }

        return value;
    }

    /// <summary>Reads a required object field and canonicalises it, leaving out <paramref name="omit"/>.</summary>
    public VmObject RequireObject(JsonElement action, string field, params string[] omit) =>
        VmObject.FromElement(Require(action, field, "the action"), field, Options.MaxValueBytes, omit);

    /// <summary>Reads a required string field holding an id: 1..MaxIdLength characters of valid Unicode.</summary>
    public string RequireId(JsonElement parent, string field, string where)
    {
        var value = Require(parent, field, where);
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new VmRejectedException($"'{where}.{field}' must be a string, got {VmObject.Describe(value.ValueKind)}");
        }

        var id = VmObject.ReadString(value, $"{where}.{field}");
        if (id.Length == 0)
        {
            throw new VmRejectedException($"'{where}.{field}' must not be empty");
        }

        if (id.Length > Options.MaxIdLength)
        {
            throw new VmRejectedException($"'{where}.{field}' is too long: {id.Length} characters, at most {Options.MaxIdLength}");
        }

        try
        {
            StrictUtf8.GetByteCount(id);
        }
        catch (EncoderFallbackException)
        {
            throw new VmRejectedException($"'{where}.{field}' contains a lone surrogate (not valid Unicode text)");
        }

        return id;
    }

    /// <summary>Reads a required wallet address: 1..MaxAddressLength lowercase hex digits.</summary>
    public string RequireAddress(JsonElement parent, string field, string where)
    {
        var value = Require(parent, field, where);
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new VmRejectedException($"'{where}.{field}' must be a string, got {VmObject.Describe(value.ValueKind)}");
        }

        var address = VmObject.ReadString(value, $"{where}.{field}");
        var problem = AddressProblem(address, Options.MaxAddressLength);
        return problem is null ? address : throw new VmRejectedException($"'{where}.{field}' {problem}");
    }

    /// <summary>Reads an optional integer field that must fit in 64 bits.</summary>
    public long? OptionalInt64(JsonElement parent, string field, string where)
    {
        if (!parent.TryGetProperty(field, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw new VmRejectedException($"'{where}.{field}' must be an integer in the 64-bit range, got {(value.ValueKind == JsonValueKind.Number ? value.GetRawText() : VmObject.Describe(value.ValueKind))}");
        }

        return number;
    }

    /// <summary>Why an address is not acceptable, or null when it is.</summary>
    internal static string? AddressProblem(string address, int maxLength)
    {
        if (address.Length == 0)
        {
            return "must not be empty";
        }

        if (address.Length > maxLength)
        {
            return $"is too long: {address.Length} characters, at most {maxLength}";
        }

        foreach (var c in address)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return $"must be lowercase hex digits, found '{c}'";
            }
        }

        return null;
    }
}
