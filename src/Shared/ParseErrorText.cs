using System.Text.RegularExpressions;

namespace Testbed.CommandLine;

/// <summary>
/// System.CommandLine's parse errors in the user's words ("as a whole number"), never a .NET type name. Shared source, as
/// InputFiles.cs: the `testbed` tool and `testbed-bench` compile it in, internal to each.
/// </summary>
internal static partial class ParseErrorText
{
    /// <summary><paramref name="parseError"/> with "as expected type 'System.Int32'" and the like put in words.</summary>
    public static string Friendly(string parseError)
    {
        ArgumentNullException.ThrowIfNull(parseError);
        return ExpectedType().Replace(parseError, match => "as " + TypeWord(match.Groups[1].Value));
    }

    private static string TypeWord(string typeName) => typeName switch
    {
        _ when typeName.Contains("Int32", StringComparison.Ordinal) || typeName.Contains("Int64", StringComparison.Ordinal) => "a whole number",
        _ when typeName.Contains("Double", StringComparison.Ordinal) || typeName.Contains("Single", StringComparison.Ordinal) => "a number",
        _ when typeName.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ => "the expected kind of value",
    };

    [GeneratedRegex("as expected type '([^']*)'")]
    private static partial Regex ExpectedType();
}
