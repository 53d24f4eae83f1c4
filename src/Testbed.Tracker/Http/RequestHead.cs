namespace Testbed.Tracker.Http;

/// <summary>
/// What the socket fast path needs from an HTTP/1.x request head: `GET /announce` or `GET /scrape` with no body, the raw
/// query and a few headers. Anything it does not fully understand (another method or path, a body, an upgrade, a byte
/// Kestrel would refuse, a head split over packets) is not parsed here and goes to Kestrel, which answers it as always.
/// </summary>
/// <param name="Path">Which endpoint.</param>
/// <param name="Query">The raw query after `?` (may be empty).</param>
/// <param name="Host">The Host header's value (empty for HTTP/1.0 without one).</param>
/// <param name="TraceParent">The W3C `traceparent` header's value, empty when absent.</param>
/// <param name="TraceState">The W3C `tracestate` header's value, empty when absent.</param>
/// <param name="KeepAlive">Whether the connection stays open after the answer.</param>
/// <param name="Http10">Whether the request said HTTP/1.0.</param>
/// <param name="Length">Bytes of the head, its closing blank line included.</param>
internal readonly record struct RequestHead(
    string Path, Range Query, Range Host, Range TraceParent, Range TraceState, bool KeepAlive, bool Http10, int Length)
{
    private static ReadOnlySpan<byte> Get => "GET "u8;

    /// <summary>Parses a complete head at the start of <paramref name="bytes"/>; false leaves the request to Kestrel.</summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, out RequestHead head)
    {
        head = default;
        var end = bytes.IndexOf("\r\n\r\n"u8);
        if (end < 0 || !bytes.StartsWith(Get))
        {
            return false;
        }

        var lineEnd = bytes.IndexOf("\r\n"u8);
        var requestLine = bytes[Get.Length..lineEnd];
        var space = requestLine.IndexOf((byte)' ');
        if (space < 0 || !TryVersion(requestLine[(space + 1)..], out var http10))
        {
            return false;
        }

        var target = requestLine[..space];
        if (target.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0 || target.Contains((byte)'#'))
        {
            return false;
        }

        var question = target.IndexOf((byte)'?');
        var path = question < 0 ? target : target[..question];
        string? known = path.SequenceEqual("/announce"u8) ? HttpTrackerEndpoints.AnnouncePath
            : path.SequenceEqual("/scrape"u8) ? HttpTrackerEndpoints.ScrapePath
            : null;
        if (known is null)
        {
            return false;
        }

        var queryStart = Get.Length + (question < 0 ? target.Length : question + 1);
        var query = new Range(queryStart, Get.Length + target.Length);
        if (!TryHeaders(bytes, lineEnd + 2, end, out var headers))
        {
            return false;
        }

        if (!http10 && headers.Host.Equals(default(Range)))
        {
            return false; // Kestrel answers 400
        }

        var keepAlive = !headers.Close && (!http10 || headers.KeepAlive);
        head = new RequestHead(known, query, headers.Host, headers.TraceParent, headers.TraceState, keepAlive, http10, end + 4);
        return true;
    }

    private static bool TryVersion(ReadOnlySpan<byte> version, out bool http10)
    {
        http10 = version.SequenceEqual("HTTP/1.0"u8);
        return http10 || version.SequenceEqual("HTTP/1.1"u8);
    }

    private static bool TryHeaders(ReadOnlySpan<byte> bytes, int start, int end, out Headers headers)
    {
        headers = default;
        var at = start;
        while (at < end)
        {
            var length = bytes[at..].IndexOf("\r\n"u8);
            var line = bytes.Slice(at, length);
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) >= 0 || line[..colon].Contains((byte)' '))
            {
                return false;
            }

            var name = line[..colon];
            var valueStart = colon + 1;
            while (valueStart < line.Length && line[valueStart] == ' ')
            {
                valueStart++;
            }

            var valueEnd = line.Length;
            while (valueEnd > valueStart && line[valueEnd - 1] == ' ')
            {
                valueEnd--;
            }

            var value = line[valueStart..valueEnd];
            var range = new Range(at + valueStart, at + valueEnd);
            if (!headers.TryAdd(name, value, range))
            {
                return false;
            }

            at += length + 2;
        }

        return true;
    }

    /// <summary>The headers that matter; a header that asks for anything more sends the request to Kestrel.</summary>
    private struct Headers
    {
        public Range Host;
        public Range TraceParent;
        public Range TraceState;
        public bool Close;
        public bool KeepAlive;

        public bool TryAdd(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, Range range)
        {
            if (Is(name, "host"u8))
            {
                return Once(ref Host, range);
            }

            if (Is(name, "connection"u8))
            {
                Close |= Is(value, "close"u8);
                KeepAlive |= Is(value, "keep-alive"u8);
                return Close || KeepAlive;
            }

            if (Is(name, "content-length"u8))
            {
                return value.SequenceEqual("0"u8);
            }

            if (Is(name, "traceparent"u8))
            {
                return Once(ref TraceParent, range);
            }

            if (Is(name, "tracestate"u8))
            {
                return Once(ref TraceState, range);
            }

            // A body, an upgrade or an expectation is Kestrel's to handle.
            return !Is(name, "transfer-encoding"u8) && !Is(name, "upgrade"u8) && !Is(name, "expect"u8);
        }

        private static bool Once(ref Range field, Range range)
        {
            if (!field.Equals(default(Range)))
            {
                return false;
            }

            field = range;
            return true;
        }

        private static bool Is(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerCase) =>
            System.Text.Ascii.EqualsIgnoreCase(text, lowerCase);
    }
}
