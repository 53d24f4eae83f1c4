using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Dht.Krpc;

namespace Testbed.Torrent.Dht.Storage;

/// <summary>
/// What a node keeps across restarts: its id and its good nodes, as a bencoded dictionary
/// (`id`: 20 bytes, `nodes`: compact node info). Written to a temporary file and renamed over the old one, so a crash
/// leaves either the old file or the new one; a file that does not decode is reported and ignored, never fatal.
/// </summary>
public sealed record DhtState(NodeId Id, IReadOnlyList<NodeInfo> Nodes)
{
    /// <summary>Largest state file read (8 x 160 buckets of 26 bytes is about 33 KB).</summary>
    public const int MaxFileSize = 64 * 1024;

    /// <summary>Most nodes kept in the file.</summary>
    public const int MaxNodes = 1024;

    /// <summary>The bencoded file content.</summary>
    public byte[] Encode() => new BencodeDictionary
    {
        { "id", Id.ToArray() },
        { "nodes", CompactNodes.Write(Nodes.Take(MaxNodes)) },
    }.Encode();

    /// <summary>Decodes file content; throws <see cref="FormatException"/> when it is not a state file.</summary>
    public static DhtState Decode(ReadOnlyMemory<byte> content)
    {
        var root = BencodeDecoder.DecodeDictionary(content, new BencodeLimits(MaxDepth: 2, MaxStringLength: MaxFileSize, MaxElements: 16, MaxTotalSize: MaxFileSize));
        var id = root.Get<BencodeString>("id") is { Length: NodeId.Length } idBytes
            ? new NodeId(idBytes.Bytes.Span)
            : throw new FormatException("'id' is not 20 bytes");
        var nodes = root.Get<BencodeString>("nodes") ?? throw new FormatException("'nodes' is missing");
        return new DhtState(id, [.. CompactNodes.Parse(nodes.Bytes.Span).Take(MaxNodes)]);
    }

    /// <summary>Reads the state file; null (with a line to <paramref name="log"/>, unless the file is simply absent) when it cannot be used.</summary>
    public static DhtState? TryLoad(string path, Action<string>? log)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return null;
            }

            if (info.Length > MaxFileSize)
            {
                log?.Invoke($"dht: state file {path} is {info.Length} bytes, more than {MaxFileSize}; starting fresh");
                return null;
            }

            return Decode(File.ReadAllBytes(path));
        }
        catch (FormatException e)
        {
            log?.Invoke($"dht: state file {path} is unreadable ({e.Message}); starting fresh");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log?.Invoke($"dht: state file {path} cannot be read ({e.Message}); starting fresh");
            return null;
        }
    }

    /// <summary>Writes the state file atomically: a temporary file next to it, flushed to disk, then renamed over it.</summary>
    public static async Task SaveAsync(string path, DhtState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(state);
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():n}");
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(state.Encode(), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary); // No-op once renamed.
        }
    }
}
