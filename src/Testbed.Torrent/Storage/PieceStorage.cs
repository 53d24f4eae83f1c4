using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Testbed.IO;
using Testbed.Torrent.PeerWire;

namespace Testbed.Torrent.Storage;

/// <summary>The torrent's data on disk is missing or wrong where it must be complete (a seeder's); the message lists what.</summary>
public sealed class TorrentDataException(string message, IReadOnlyList<string> problems) : IOException(message)
{
    /// <summary>One entry per missing or short file (or per failing piece range).</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>A write to read-only storage (a seeder's): refused, and nothing on disk changes.</summary>
public sealed class ReadOnlyStorageException(string message) : IOException(message);

/// <summary>
/// The torrent's files on disk: reads blocks for upload, writes verified pieces, and re-checks what is there on resume.
/// Read-only storage (a seeder's) never creates, extends or writes a file or a directory.
/// </summary>
public sealed class PieceStorage : IDisposable
{
    private readonly TorrentLayout layout;
    private readonly string[] paths;
    private readonly SafeFileHandle?[] handles;
    private readonly Lock gate = new();
    private readonly Lock directGate = new();
    private readonly DirectWriter direct;
    private bool writable;
    private bool disposed;

    /// <summary>Maps the layout onto <paramref name="directory"/>; files are opened lazily. Read-only storage never writes.</summary>
    public PieceStorage(TorrentLayout layout, string directory, bool readOnly = false)
    {
        ArgumentNullException.ThrowIfNull(layout);
        this.layout = layout;
        IsReadOnly = readOnly;
        var root = Path.GetFullPath(directory);
        paths = new string[layout.Files.Count];
        for (var i = 0; i < paths.Length; i++)
        {
            var full = Path.GetFullPath(Path.Combine(root, layout.Files[i].RelativePath));
            // A hostile metainfo must not write outside the download directory.
            if (!full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"file path '{layout.Files[i].RelativePath}' leaves the download directory");
            }

            paths[i] = full;
        }

        handles = new SafeFileHandle?[paths.Length];
        direct = new DirectWriter(paths.Length);
    }

    /// <summary>The full paths of the files, in torrent order.</summary>
    public IReadOnlyList<string> Paths => paths;

    /// <summary>True when nothing may be written (seeding).</summary>
    public bool IsReadOnly { get; }

    /// <summary>
    /// What keeps the files from being complete, found without opening any file: one line per file that is missing, is not a
    /// regular file, or is shorter than the torrent says (longer files are fine: their pieces are still checked).
    /// </summary>
    public IReadOnlyList<string> FindMissing()
    {
        var problems = new List<string>();
        for (var i = 0; i < paths.Length; i++)
        {
            var file = layout.Files[i];
            if (file.IsPadding)
            {
                continue;
            }

            var kind = InputFiles.KindOf(paths[i]);
            if (kind == FileKind.Missing)
            {
                problems.Add($"{file.RelativePath} is missing ({file.Length} bytes expected)");
            }
            else if (kind != FileKind.Regular)
            {
                problems.Add($"{file.RelativePath} is {InputFiles.Describe(kind)}, not a file");
            }
            else if (new FileInfo(paths[i]).Length is var length && length < file.Length)
            {
                problems.Add($"{file.RelativePath} is {length} bytes, the torrent says {file.Length}");
            }
        }

        return problems;
    }

    /// <summary>Reads a byte range of piece <paramref name="piece"/> into <paramref name="destination"/>; returns bytes read (short when files are short).</summary>
    public int Read(int piece, int begin, Span<byte> destination)
    {
        var offset = ((long)piece * layout.PieceLength) + begin;
        var total = 0;
        foreach (var (file, fileOffset, rangeOffset, count) in layout.Map(offset, destination.Length))
        {
            if (layout.Files[file].IsPadding)
            {
                destination.Slice(rangeOffset, count).Clear();
                total += count;
                continue;
            }

            var handle = Open(file, forWrite: false);
            if (handle is null)
            {
                return total;
            }

            var read = 0;
            while (read < count)
            {
                var n = RandomAccess.Read(handle, destination.Slice(rangeOffset + read, count - read), fileOffset + read);
                if (n == 0)
                {
                    return total + read;
                }

                read += n;
            }

            total += read;
        }

        return total;
    }

    /// <summary>Writes a whole, already verified piece (refused by read-only storage).</summary>
    public void WritePiece(int piece, ReadOnlySpan<byte> data)
    {
        RefuseIfReadOnly();
        var offset = (long)piece * layout.PieceLength;
        foreach (var (file, fileOffset, rangeOffset, count) in layout.Map(offset, data.Length))
        {
            if (layout.Files[file].IsPadding)
            {
                continue;
            }

            var range = data.Slice(rangeOffset, count);
            var handle = Open(file, forWrite: true)!;
            var (start, end) = DirectWriter.AlignedPart(fileOffset, count);
            if (end > start && WriteDirect(file, range.Slice((int)(start - fileOffset), (int)(end - start)), start))
            {
                // The page-aligned middle went to the device; the partial pages around it go through the page cache.
                RandomAccess.Write(handle, range[..(int)(start - fileOffset)], fileOffset);
                RandomAccess.Write(handle, range[(int)(end - fileOffset)..], end);
                continue;
            }

            RandomAccess.Write(handle, range, fileOffset);
        }
    }

    private bool WriteDirect(int file, ReadOnlySpan<byte> data, long offset)
    {
        lock (directGate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return direct.TryWrite(file, paths[file], data, offset);
        }
    }

    /// <summary>Creates every file at its full length (zero-length files included) so a complete download leaves them all.</summary>
    public void EnsureFiles()
    {
        RefuseIfReadOnly();
        for (var i = 0; i < paths.Length; i++)
        {
            if (layout.Files[i].IsPadding)
            {
                continue;
            }

            var handle = Open(i, forWrite: true)!;
            if (RandomAccess.GetLength(handle) < layout.Files[i].Length)
            {
                RandomAccess.SetLength(handle, layout.Files[i].Length);
            }
        }
    }

    /// <summary>Hashes every piece on disk and returns those that verify: resume fetches only the rest.</summary>
    public Bitfield Check(CancellationToken cancellationToken = default)
    {
        var have = new Bitfield(layout.PieceCount);
        if (!paths.Where((_, i) => !layout.Files[i].IsPadding).Any(p => InputFiles.KindOf(p) == FileKind.Regular))
        {
            return have;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(layout.PieceLength);
        try
        {
            for (var piece = 0; piece < layout.PieceCount; piece++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var length = layout.LengthOf(piece);
                if (Read(piece, 0, buffer.AsSpan(0, length)) == length && layout.Verify(piece, buffer.AsSpan(0, length)))
                {
                    have.Set(piece);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return have;
    }

    private void RefuseIfReadOnly()
    {
        if (IsReadOnly)
        {
            throw new ReadOnlyStorageException("the torrent's files are read-only here (seeding never writes)");
        }
    }

    private SafeFileHandle? Open(int file, bool forWrite)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (forWrite && !writable)
            {
                // Upgrade: reopen every handle read-write, so one handle kind serves both directions afterwards.
                for (var i = 0; i < handles.Length; i++)
                {
                    handles[i]?.Dispose();
                    handles[i] = null;
                }

                writable = true;
            }

            if (handles[file] is { } existing)
            {
                return existing;
            }

            // Only regular files are opened: opening a FIFO someone left in the directory would block forever.
            var kind = InputFiles.KindOf(paths[file]);
            if (writable)
            {
                if (kind is not (FileKind.Missing or FileKind.Regular))
                {
                    throw new IOException($"{layout.Files[file].RelativePath} is {InputFiles.Describe(kind)}, not a file");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(paths[file])!);
                handles[file] = File.OpenHandle(paths[file], FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            }
            else
            {
                if (kind != FileKind.Regular)
                {
                    return null;
                }

                handles[file] = File.OpenHandle(paths[file], FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }

            return handles[file];
        }
    }

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            foreach (var handle in handles)
            {
                handle?.Dispose();
            }
        }

        lock (directGate)
        {
            direct.Dispose();
        }
    }
}
