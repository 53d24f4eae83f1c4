namespace Testbed.Inspector.Dashboard;

/// <summary>One line of an NDJSON stream: its bytes, or only its length when it was longer than allowed (then skipped).</summary>
public readonly record struct StreamLine(ReadOnlyMemory<byte> Bytes, bool Oversized, long Length);

/// <summary>
/// Reads '\n'-separated lines from a stream, never holding more than <c>maxLineBytes</c> of one line: a longer line is
/// read through to its end and reported as oversized, without its bytes. A trailing '\r' is removed; empty lines are skipped.
/// </summary>
public sealed class BoundedLineReader(Stream stream, int maxLineBytes)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly MemoryStream _line = new();
    private int _start;
    private int _end;
    private long _length;
    private bool _oversized;

    /// <summary>The next non-empty line, or null at the end of the stream (an unterminated last line is returned first).</summary>
    public async ValueTask<StreamLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                Append(_start, newline - _start);
                _start = newline + 1;
                if (Complete() is { } line)
                {
                    return line;
                }

                continue;
            }

            Append(_start, _end - _start);
            _start = _end = 0;
            var read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return Complete();
            }

            _end = read;
        }
    }

    private void Append(int offset, int count)
    {
        _length += count;
        if (_oversized)
        {
            return;
        }

        if (_line.Length + count > maxLineBytes)
        {
            _oversized = true;
            _line.SetLength(0);
            return;
        }

        _line.Write(_buffer, offset, count);
    }

    private StreamLine? Complete()
    {
        var length = _length;
        var oversized = _oversized;
        var bytes = _line.ToArray();
        _line.SetLength(0);
        _length = 0;
        _oversized = false;
        if (oversized)
        {
            return new StreamLine(ReadOnlyMemory<byte>.Empty, true, length);
        }

        var count = bytes.Length;
        if (count > 0 && bytes[count - 1] == '\r')
        {
            count--;
        }

        return count == 0 ? null : new StreamLine(bytes.AsMemory(0, count), false, count);
    }
}
