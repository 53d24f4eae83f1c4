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
    private readonly TorrentLayout _layout;
    private readonly string[] _paths;
    private readonly SafeFileHandle?[] _handles;
    private readonly Lock _gate = new();
    private readonly Lock _directGate = new();
    private readonly DirectWriter _direct;
    private bool _writable;
    private bool _disposed;

    /// <summary>Maps the layout onto <paramref name="directory"/>; files are opened lazily. Read-only storage never writes.</summary>
    public PieceStorage(TorrentLayout layout, string directory, bool readOnly = false)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
        IsReadOnly = readOnly;
        var root = Path.GetFullPath(directory);
        _paths = new string[layout.Files.Count];
        for (var i = 0; i < _paths.Length; i++)
        {
            var full = Path.GetFullPath(Path.Combine(root, layout.Files[i].RelativePath));
            // A hostile metainfo must not write outside the download directory.
            if (!full.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"file path '{layout.Files[i].RelativePath}' leaves the download directory");
            }

            _paths[i] = full;
        }

        _handles = new SafeFileHandle?[_paths.Length];
        _direct = new DirectWriter(_paths.Length);
    }

    /// <summary>The full paths of the files, in torrent order.</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>True when nothing may be written (seeding).</summary>
    public bool IsReadOnly { get; }

    /// <summary>
    /// What keeps the files from being complete, found without opening any file: one line per file that is missing, is not a
    /// regular file, or is shorter than the torrent says (longer files are fine: their pieces are still checked).
    /// </summary>
    public IReadOnlyList<string> FindMissing()
    {
        var problems = new List<string>();
        for (var i = 0; i < _paths.Length; i++)
        {
            var file = _layout.Files[i];
            if (file.IsPadding)
            {
                continue;
            }

            var kind = InputFiles.KindOf(_paths[i]);
            if (kind == FileKind.Missing)
            {
                problems.Add($"{file.RelativePath} is missing ({file.Length} bytes expected)");
            }
            else if (kind != FileKind.Regular)
            {
                problems.Add($"{file.RelativePath} is {InputFiles.Describe(kind)}, not a file");
            }
            else if (new FileInfo(_paths[i]).Length is var length && length < file.Length)
            {
                problems.Add($"{file.RelativePath} is {length} bytes, the torrent says {file.Length}");
            }
        }

        return problems;
    }

    /// <summary>Reads a byte range of piece <paramref name="piece"/> into <paramref name="destination"/>; returns bytes read (short when files are short).</summary>
    public int Read(int piece, int begin, Span<byte> destination)
    {
        var offset = ((long)piece * _layout.PieceLength) + begin;
        var total = 0;
        foreach (var (file, fileOffset, rangeOffset, count) in _layout.Map(offset, destination.Length))
        {
            if (_layout.Files[file].IsPadding)
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

    /// <summary>
    /// Writes a whole, already verified piece (refused by read-only storage). The page-aligned middle of each large file range
    /// goes to the device directly where the filesystem allows it, without a copy when it also starts on a page in memory.
    /// </summary>
    public void WritePiece(int piece, ReadOnlySpan<byte> data)
    {
        RefuseIfReadOnly();
        var offset = (long)piece * _layout.PieceLength;
        foreach (var (file, fileOffset, rangeOffset, count) in _layout.Map(offset, data.Length))
        {
            if (_layout.Files[file].IsPadding)
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
        lock (_directGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _direct.TryWrite(file, _paths[file], data, offset);
        }
    }

    /// <summary>Creates every file at its full length (zero-length files included) so a complete download leaves them all.</summary>
    public void EnsureFiles()
    {
        RefuseIfReadOnly();
        for (var i = 0; i < _paths.Length; i++)
        {
            if (_layout.Files[i].IsPadding)
            {
                continue;
            }

            var handle = Open(i, forWrite: true)!;
            if (RandomAccess.GetLength(handle) < _layout.Files[i].Length)
            {
                RandomAccess.SetLength(handle, _layout.Files[i].Length);
            }
        }
    }

    /// <summary>Hashes every piece on disk and returns those that verify: resume fetches only the rest.</summary>
    public Bitfield Check(CancellationToken cancellationToken = default)
    {
        var have = new Bitfield(_layout.PieceCount);
        if (!_paths.Where((_, i) => !_layout.Files[i].IsPadding).Any(p => InputFiles.KindOf(p) == FileKind.Regular))
        {
            return have;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(_layout.PieceLength);
        try
        {
            for (var piece = 0; piece < _layout.PieceCount; piece++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var length = _layout.LengthOf(piece);
                if (Read(piece, 0, buffer.AsSpan(0, length)) == length && _layout.Verify(piece, buffer.AsSpan(0, length)))
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
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (forWrite && !_writable)
            {
                // Upgrade: reopen every handle read-write, so one handle kind serves both directions afterwards.
                for (var i = 0; i < _handles.Length; i++)
                {
                    _handles[i]?.Dispose();
                    _handles[i] = null;
                }

                _writable = true;
            }

            if (_handles[file] is { } existing)
            {
                return existing;
            }

            // Only regular files are opened: opening a FIFO someone left in the directory would block forever.
            var kind = InputFiles.KindOf(_paths[file]);
            if (_writable)
            {
                if (kind is not (FileKind.Missing or FileKind.Regular))
                {
                    throw new IOException($"{_layout.Files[file].RelativePath} is {InputFiles.Describe(kind)}, not a file");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(_paths[file])!);
                _handles[file] = File.OpenHandle(_paths[file], FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            }
            else
            {
                if (kind != FileKind.Regular)
                {
                    return null;
                }

                _handles[file] = File.OpenHandle(_paths[file], FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }

            return _handles[file];
        }
    }

    /// <summary>Closes the files.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var handle in _handles)
            {
                handle?.Dispose();
            }
        }

        lock (_directGate)
        {
            _direct.Dispose();
        }
    }
}
