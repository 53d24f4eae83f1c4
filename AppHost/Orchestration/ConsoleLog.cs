namespace Testbed.AppHost.Orchestration;

/// <summary>One line a resource's process wrote, or a line the AppHost added (stream "system").</summary>
/// <param name="Sequence">Position in the resource's log since the AppHost started; survives restarts.</param>
public sealed record ConsoleLine(long Sequence, DateTimeOffset Time, string Stream, string Text);

/// <summary>The last lines of a resource's stdout and stderr: a bounded ring buffer, the oldest lines drop first.</summary>
public sealed class ConsoleLog
{
    /// <summary>Longer lines are cut so one runaway line cannot take the buffer's memory.</summary>
    public const int MaxLineLength = 8192;

    private readonly ConsoleLine?[] _ring;
    private readonly Lock _gate = new();
    private long _next;

    /// <summary>A log keeping the last <paramref name="capacity"/> lines.</summary>
    public ConsoleLog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new ConsoleLine?[capacity];
    }

    /// <summary>Raised after each appended line (used to echo to the AppHost's console).</summary>
    public event Action<ConsoleLine>? LineAppended;

    /// <summary>Lines written since the start, including those that dropped out.</summary>
    public long TotalLines
    {
        get
        {
            lock (_gate)
            {
                return _next;
            }
        }
    }

    /// <summary>Appends one line, cutting it at <see cref="MaxLineLength"/> characters.</summary>
    public void Append(string stream, string text)
    {
        if (text.Length > MaxLineLength)
        {
            text = string.Concat(text.AsSpan(0, MaxLineLength), " [cut]");
        }

        ConsoleLine line;
        lock (_gate)
        {
            line = new ConsoleLine(_next, DateTimeOffset.UtcNow, stream, text);
            _ring[_next % _ring.Length] = line;
            _next++;
        }

        LineAppended?.Invoke(line);
    }

    /// <summary>The last <paramref name="count"/> lines still kept, oldest first.</summary>
    public IReadOnlyList<ConsoleLine> Tail(int count)
    {
        lock (_gate)
        {
            var available = (int)Math.Min(_next, _ring.Length);
            var take = Math.Clamp(count, 0, available);
            var lines = new ConsoleLine[take];
            for (var i = 0; i < take; i++)
            {
                lines[i] = _ring[(_next - take + i) % _ring.Length]!;
            }

            return lines;
        }
    }

    /// <summary>The tail as plain text, for error messages.</summary>
    public string TailText(int count) =>
        string.Join(Environment.NewLine, Tail(count).Select(line => $"[{line.Stream}] {line.Text}"));
}
