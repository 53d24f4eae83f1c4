namespace Testbed.Torrent.Metainfo;

/// <summary>Checks names and path segments from a torrent so no file can land outside the download directory.</summary>
public static class PathSegments
{
    /// <summary>Longest segment accepted, in characters (common filesystems allow 255 bytes).</summary>
    public const int MaxSegmentLength = 255;

    /// <summary>Throws a <see cref="MetainfoException"/> naming the problem if the segment is unsafe.</summary>
    public static void Validate(string segment, string what)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var problem = Problem(segment);
        if (problem is not null)
        {
            throw new MetainfoException($"{what} '{Printable(segment)}' is unsafe: {problem}");
        }
    }

    /// <summary>Why a segment is unsafe, or null if it is fine.</summary>
    public static string? Problem(string segment)
    {
        if (segment.Length == 0)
        {
            return "empty";
        }

        if (segment is "." or "..")
        {
            return "refers to a current or parent directory";
        }

        if (segment.Length > MaxSegmentLength)
        {
            return $"longer than {MaxSegmentLength} characters";
        }

        if (segment.Contains('/', StringComparison.Ordinal) || segment.Contains('\\', StringComparison.Ordinal))
        {
            return "contains a path separator";
        }

        if (segment.Contains('\0', StringComparison.Ordinal))
        {
            return "contains a NUL character";
        }

        // A drive prefix ("C:") would make the path absolute on Windows.
        if (segment.Length >= 2 && segment[1] == ':' && char.IsAsciiLetter(segment[0]))
        {
            return "is a drive-rooted path";
        }

        return Path.IsPathRooted(segment) ? "is an absolute path" : null;
    }

    private static string Printable(string segment) =>
        segment.Length > 80 ? string.Concat(segment.AsSpan(0, 80), "...") : segment.Replace("\0", "\\0", StringComparison.Ordinal);
}
