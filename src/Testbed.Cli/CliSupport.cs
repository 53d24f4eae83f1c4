using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Testbed.CommandLine;
using Testbed.Contracts.Settings;
using Testbed.IO;
using Testbed.Ledger.Wallets;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;
using Testbed.Torrent.Storage;

namespace Testbed.Cli;

/// <summary>Unusable arguments or input, found by a command's own checks: printed as one line, exit 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>A check the command ran failed (the data does not match, a download did not finish): one line, exit 1.</summary>
internal sealed class CliCheckFailedException(string message) : Exception(message);

/// <summary>
/// The one place where failures become what the user sees: one line <c>error: ...</c> (control characters escaped, no stack
/// trace, no .NET type names) and the exit code every command shares: 0 success, 1 a check failed, 2 unusable arguments or
/// unreadable input (file, socket and argument errors). Set TESTBED_DEBUG=1 to get the stack trace of an unexpected failure.
/// </summary>
internal static partial class CliErrors
{
    /// <summary>Exit code of success.</summary>
    public const int Success = 0;

    /// <summary>Exit code of a failed check.</summary>
    public const int CheckFailed = 1;

    /// <summary>Exit code of unusable arguments or unreadable input.</summary>
    public const int Unusable = 2;

    /// <summary>The one line and the exit code for <paramref name="error"/>.</summary>
    public static (string Message, int ExitCode) Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            return Describe(aggregate.InnerExceptions[0]);
        }

        var (message, code) = error switch
        {
            CliUsageException => (error.Message, Unusable),
            CliCheckFailedException or TorrentDataException => (error.Message, CheckFailed),
            OperationCanceledException => ("interrupted", CheckFailed),
            FileNotFoundException missing when missing.FileName is { } name && Directory.Exists(name) => ($"{name} is a directory, not a file", Unusable),
            FileNotFoundException missing when missing.FileName is { } name => ($"{name}: no such file", Unusable),
            DirectoryNotFoundException => ($"{QuotedPath(error.Message) ?? "a directory"}: a directory on the way does not exist", Unusable),
            UnauthorizedAccessException => ($"permission denied: {QuotedPath(error.Message) ?? error.Message}", Unusable),
            SocketException socket => (SocketMessage(socket), Unusable),
            IOException => (error.Message, Unusable),
            ArgumentException argument => (ParameterSuffix().Replace(argument.Message, ""), Unusable),
            FormatException or InvalidDataException or MetainfoException or BencodeException or WalletException or CryptographicException => (error.Message, Unusable),
            _ => ($"unexpected failure: {error.Message} (set TESTBED_DEBUG=1 for the details)", CheckFailed),
        };
        return (OneLine(message), code);
    }

    /// <summary>Prints <paramref name="error"/> as one line on standard error and returns its exit code.</summary>
    public static int Report(Exception error)
    {
        var (message, code) = Describe(error);
        Console.Error.WriteLine($"error: {message}");
        if (Environment.GetEnvironmentVariable("TESTBED_DEBUG") == "1")
        {
            Console.Error.WriteLine(error.ToString());
        }

        return code;
    }

    /// <summary>A parse error of System.CommandLine, in the user's words: no .NET type names.</summary>
    public static string Friendly(string parseError)
    {
        ArgumentNullException.ThrowIfNull(parseError);
        return OneLine(ParseErrorText.Friendly(parseError));
    }

    /// <summary><paramref name="text"/> on one line with control and bidirectional characters escaped (\u001b, \n, ...).</summary>
    public static string OneLine(string text) => Terminal.Safe(text.Replace("\r\n", "\n", StringComparison.Ordinal).Trim());

    private static string SocketMessage(SocketException socket) => socket.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "the address is already in use (another program listens there)",
        SocketError.AddressNotAvailable => "the address is not one of this machine's",
        SocketError.AccessDenied => "permission denied to use that port",
        SocketError.ConnectionRefused => "the connection was refused (nothing listens there)",
        _ => socket.Message,
    };

    private static string? QuotedPath(string message)
    {
        var match = QuotedPathPattern().Match(message);
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@" \(Parameter '[^']*'\)$")]
    private static partial Regex ParameterSuffix();

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex QuotedPathPattern();
}

/// <summary>Text bound for a terminal: nothing in it can move the cursor, retitle the window or reorder the line.</summary>
internal static class Terminal
{
    /// <summary>
    /// <paramref name="text"/> with C0 and C1 control characters (ESC, BEL, CSI, ...), DEL and the bidirectional overrides
    /// written as <c>\u001b</c>-style escapes, so a torrent's name or comment prints as data, never as a terminal command.
    /// </summary>
    public static string Safe(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        StringBuilder? builder = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!NeedsEscape(c))
            {
                builder?.Append(c);
                continue;
            }

            builder ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
        }

        return builder?.ToString() ?? text;
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}

/// <summary>Options and path checks every command shares, so arguments are refused before any long work starts.</summary>
internal static class CliOptions
{
    /// <summary>
    /// An integer option from <paramref name="min"/> to <paramref name="max"/>; anything else is a parse error that names the
    /// option and the range ("--timeout must be a whole number from 1 to 604800, got 'abc'").
    /// </summary>
    public static Option<int?> Integer(string name, string description, int min, int max)
    {
        var option = new Option<int?>(name) { Description = description };
        option.CustomParser = result => ParseInteger(result, name, min, max);
        return option;
    }

    /// <summary>An integer option that sets a service's setting: that setting's one range, never a second.</summary>
    public static Option<int?> Integer(string name, string description, IntegerSetting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return Integer(name, description, checked((int)setting.Min), checked((int)setting.Max));
    }

    /// <summary>Like <see cref="Integer(string, string, int, int)"/>, with a default and never null.</summary>
    public static Option<int> Integer(string name, string description, int min, int max, int defaultValue, bool required = false)
    {
        var option = new Option<int>(name) { Description = description, Required = required };
        if (!required)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        option.CustomParser = result => ParseInteger(result, name, min, max) ?? defaultValue;
        return option;
    }

    /// <summary>Throws <see cref="CliUsageException"/> when <paramref name="value"/> is empty or blank.</summary>
    public static string NotEmpty(string? value, string option)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new CliUsageException($"{option} must not be empty");
        }

        return value;
    }

    /// <summary>An existing directory to read from (seeding never writes).</summary>
    public static string ExistingDirectory(string? path, string option)
    {
        NotEmpty(path, option);
        var kind = InputFiles.KindOf(path!);
        return kind switch
        {
            FileKind.Directory => path!,
            FileKind.Missing => throw new CliUsageException($"{option} {path}: no such directory"),
            _ => throw new CliUsageException($"{option} {path} is {InputFiles.Describe(kind)}, not a directory"),
        };
    }

    /// <summary>A directory to write into: created when missing, refused when it is something else or not writable.</summary>
    public static string WritableDirectory(string? path, string option)
    {
        NotEmpty(path, option);
        var kind = InputFiles.KindOf(path!);
        if (kind == FileKind.Missing)
        {
            try
            {
                Directory.CreateDirectory(path!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliUsageException($"{option} {path} cannot be created: {CliErrors.Describe(e).Message}");
            }
        }
        else if (kind != FileKind.Directory)
        {
            throw new CliUsageException($"{option} {path} is {InputFiles.Describe(kind)}, not a directory");
        }

        // The one sure test of writability: create (and drop) a file there.
        var probe = Path.Combine(path!, $".testbed-write-check-{Environment.ProcessId}-{Guid.NewGuid():n}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{option} {path} is not writable ({CliErrors.Describe(e).Message})");
        }

        return path!;
    }

    private static int? ParseInteger(ArgumentResult result, string name, int min, int max)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        result.AddError($"{name} must be a whole number from {min} to {max}, got '{text}'");
        return null;
    }
}

/// <summary>
/// An output file prepared before the work that produces it: the path is checked (not a directory, its directory exists and
/// is writable) by creating a temporary file next to it, which <see cref="CommitAsync"/> fills and renames into place, so a
/// failed or interrupted run never leaves a half-written file (and never truncates the old one first).
/// </summary>
/// <remarks>It creates <paramref name="temporary"/> itself (never over an existing file): the file it writes is the one it moves into place.</remarks>
internal sealed class PendingOutput(string target, string temporary) : IAsyncDisposable
{
    private readonly FileStream _stream = new(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
    private bool _committed;

    /// <summary>Where the output goes.</summary>
    public string Target { get; } = target;

    private string Temporary { get; } = temporary;

    /// <summary>Checks <paramref name="path"/> and reserves the temporary file; throws <see cref="CliUsageException"/>.</summary>
    public static PendingOutput Prepare(string? path, string option)
    {
        CliOptions.NotEmpty(path, option);
        var full = Path.GetFullPath(path!);
        var kind = InputFiles.KindOf(full);
        if (kind is not (FileKind.Missing or FileKind.Regular))
        {
            throw new CliUsageException($"{option} {path} is {InputFiles.Describe(kind)}; name a file to write");
        }

        var directory = Path.GetDirectoryName(full)!;
        var directoryKind = InputFiles.KindOf(directory);
        if (directoryKind != FileKind.Directory)
        {
            throw new CliUsageException(directoryKind == FileKind.Missing
                ? $"{option} {path}: the directory {directory} does not exist"
                : $"{option} {path}: {directory} is {InputFiles.Describe(directoryKind)}, not a directory");
        }

        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():n}");
        try
        {
            return new PendingOutput(full, temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{option} {path} cannot be written: {CliErrors.Describe(e).Message}");
        }
    }

    /// <summary>Writes the content and moves it into place.</summary>
    public async Task CommitAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        File.Move(Temporary, Target, overwrite: true);
        _committed = true;
    }

    /// <summary>Drops the temporary file unless it was committed.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        if (!_committed)
        {
            try
            {
                File.Delete(Temporary);
            }
            catch (IOException)
            {
            }
        }
    }
}
