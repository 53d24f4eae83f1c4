using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Testbed.Chaos.Checking;

/// <summary>
/// A run's history as a file: one JSON object per line (<see cref="HistoryEvent"/>, its kind in <c>type</c>), written while
/// the run goes and read back by the checker, which reads nothing else, so a saved history can be checked again
/// (<c>scenario check FILE</c>).
/// </summary>
public static class HistoryFile
{
    /// <summary>The file name the chaos service gives a run's history in the run's directory.</summary>
    public const string FileName = "history.jsonl";

    /// <summary>Largest history file read.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>Longest line read.</summary>
    public const int MaxLineChars = 1 << 20;

    /// <summary>The JSON options of history lines (camelCase, nulls left out, metadata in any order).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        AllowOutOfOrderMetadataProperties = true,
        MaxDepth = 16,
    };

    /// <summary>One line (without its newline).</summary>
    public static string Serialize(HistoryEvent item) => JsonSerializer.Serialize(item, Json);

    /// <summary>Parses one line; throws <see cref="HistoryFileException"/>.</summary>
    public static HistoryEvent Parse(string line, int number)
    {
        try
        {
            return JsonSerializer.Deserialize<HistoryEvent>(line, Json) ?? throw new HistoryFileException(number, "null is not an event");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new HistoryFileException(number, e.Message);
        }
    }

    /// <summary>Reads a history file into a <see cref="RunHistory"/>; throws <see cref="HistoryFileException"/> naming the line of a bad one.</summary>
    public static RunHistory Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length > MaxBytes)
        {
            throw new HistoryFileException(0, $"{path} is {stream.Length} bytes; at most {MaxBytes} are read");
        }

        return Read(stream);
    }

    /// <summary>Reads history lines from a stream (empty lines are skipped).</summary>
    public static RunHistory Read(Stream stream)
    {
        var history = new RunHistory();
        using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
        var buffer = new StringBuilder();
        var number = 0;
        while (true)
        {
            var line = ReadLine(reader, buffer, number + 1);
            if (line is null)
            {
                break;
            }

            number++;
            if (line.Length > 0)
            {
                history.Add(Parse(line, number));
            }
        }

        return history;
    }

    private static string? ReadLine(StreamReader reader, StringBuilder buffer, int number)
    {
        buffer.Clear();
        while (true)
        {
            int c;
            try
            {
                c = reader.Read();
            }
            catch (DecoderFallbackException e)
            {
                throw new HistoryFileException(number, $"not UTF-8: {e.Message}");
            }

            if (c < 0)
            {
                return buffer.Length == 0 ? null : buffer.ToString();
            }

            if (c == '\n')
            {
                return buffer.ToString().TrimEnd('\r');
            }

            if (buffer.Length >= MaxLineChars)
            {
                throw new HistoryFileException(number, $"line longer than {MaxLineChars} characters");
            }

            buffer.Append((char)c);
        }
    }
}

/// <summary>A history file that cannot be read: which line, and why.</summary>
public sealed class HistoryFileException(int line, string message) : Exception(line > 0 ? $"line {line}: {message}" : message)
{
    /// <summary>The 1-based line, or 0 for the file as a whole.</summary>
    public int Line { get; } = line;
}

/// <summary>Writes a run's history lines as they come, each flushed, so a run cut short still leaves a readable file.</summary>
public sealed class HistoryWriter : IDisposable
{
    private readonly Lock _gate = new();
    private readonly StreamWriter _writer;
    private bool _disposed;

    /// <summary>Creates <paramref name="path"/> (it must not exist yet).</summary>
    public HistoryWriter(string path)
    {
        Path = path;
        _writer = new StreamWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)) { NewLine = "\n" };
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Appends one event as one line.</summary>
    public void Write(HistoryEvent item)
    {
        var line = HistoryFile.Serialize(item);
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _writer.Dispose();
            }
        }
    }
}
