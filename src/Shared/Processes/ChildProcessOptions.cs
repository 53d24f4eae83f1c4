namespace Testbed.Processes;

/// <summary>How a <see cref="ChildProcess"/> is started and how much of its output is kept.</summary>
internal sealed record ChildProcessOptions
{
    private static readonly Dictionary<string, string?> NoVariables = [];

    /// <summary>Starts in <paramref name="directory"/> with HOME there too, so a client keeps its configuration out of the real home.</summary>
    public static ChildProcessOptions InDirectory(string directory, IReadOnlyDictionary<string, string?>? environment = null) => new()
    {
        WorkingDirectory = directory,
        Environment = new Dictionary<string, string?>(environment ?? NoVariables) { ["HOME"] = directory },
    };

    /// <summary>The directory it starts in (null: this process's current directory).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables set for it on top of the inherited environment; a null value removes an inherited variable.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = NoVariables;

    /// <summary>Called with each line it prints on standard output, on a reader thread, as it arrives.</summary>
    public Action<string>? OnOutputLine { get; init; }

    /// <summary>Called with each line it prints on standard error, on a reader thread, as it arrives.</summary>
    public Action<string>? OnErrorLine { get; init; }

    /// <summary>How many of the newest lines (both streams interleaved) are kept for <see cref="ChildProcess.Lines"/>.</summary>
    public int KeptLines { get; init; } = 2000;

    /// <summary>How many of the newest characters of each stream are kept as text; older ones are dropped.</summary>
    public int KeptChars { get; init; } = 4 * 1024 * 1024;
}
