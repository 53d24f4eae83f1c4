using System.Text.Json;

namespace Testbed.Json;

/// <summary>
/// JSON value kinds in words ("an object", "a string") for errors that say what was found instead. Shared source, as
/// InputFiles.cs: the VM and the inspector compile it in, internal to each.
/// </summary>
internal static class JsonKinds
{
    /// <summary>The kind of a JSON value with its article: "an array", "a number", "null".</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
