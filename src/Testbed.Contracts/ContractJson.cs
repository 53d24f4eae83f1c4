using System.Text.Json;

namespace Testbed.Contracts;

/// <summary>How the contracts travel: JSON with camelCase names (ASP.NET Core's web defaults), read with bounded depth.</summary>
public static class ContractJson
{
    /// <summary>
    /// Serializer options of both sides. Reading is strict: a field the contract requires that is missing or null is an
    /// error naming it, not a default the reader mistakes for a value.
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        MaxDepth = 32,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads <typeparamref name="T"/> from <paramref name="json"/>; a body that is not one throws a <see cref="JsonException"/> naming the type.</summary>
    public static T Read<T>(string json)
        where T : class =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"the body is null, not a {typeof(T).Name}");
}
