using System.Runtime.InteropServices;
using System.Text;

namespace Testbed.IO;

/// <summary>What a path names, by the file system's own type (not its name or length).</summary>
internal enum FileKind
{
    Missing,
    Regular,
    Directory,
    Pipe,
    CharacterDevice,
    BlockDevice,
    Socket,
    Other,
}

/// <summary>A file that cannot be used as input: missing, the wrong kind, or over its limit. The message names the problem.</summary>
internal sealed class InputFileException(string message) : IOException(message);

/// <summary>
/// Reading user-supplied input files with their limits enforced before the work: the kind of file is checked first (a
/// directory, a device such as <c>/dev/zero</c> or a socket is refused by name; a FIFO only where streaming is allowed), and
/// content is read with a bounded reader that stops at limit + 1 bytes, so neither a huge file nor an endless stream is ever
/// buffered beyond its limit. Linked into every project that reads a file a user names (src/Shared).
/// </summary>
internal static class InputFiles
{
    /// <summary>The file system's kind of <paramref name="path"/>, following symbolic links.</summary>
    public static FileKind KindOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            return FileKind.Missing;
        }

        if (OperatingSystem.IsLinux() && Statx.TryGetMode(path, out var mode, out var missing))
        {
            return missing ? FileKind.Missing : (mode & 0xF000) switch
            {
                0x8000 => FileKind.Regular,
                0x4000 => FileKind.Directory,
                0x1000 => FileKind.Pipe,
                0x2000 => FileKind.CharacterDevice,
                0x6000 => FileKind.BlockDevice,
                0xC000 => FileKind.Socket,
                _ => FileKind.Other,
            };
        }

        // Elsewhere (or without statx) only the distinctions .NET itself knows.
        return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    /// <summary>A human name for a kind: "a directory", "a device", ...</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a file",
        FileKind.Directory => "a directory",
        FileKind.Pipe => "a pipe (FIFO)",
        FileKind.CharacterDevice or FileKind.BlockDevice => "a device",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    /// <summary>
    /// Throws <see cref="InputFileException"/> unless <paramref name="path"/> is a regular file (or, with
    /// <paramref name="allowPipe"/>, a FIFO); <paramref name="what"/> names the input ("--blocks", "the .torrent").
    /// </summary>
    public static FileKind RequireReadable(string path, string what, bool allowPipe = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new InputFileException($"{what}: the path is empty");
        }

        var kind = KindOf(path);
        return kind switch
        {
            FileKind.Regular => kind,
            FileKind.Pipe when allowPipe => kind,
            FileKind.Missing => throw new InputFileException($"{what} {path}: no such file"),
            _ => throw new InputFileException($"{what} {path} is {Describe(kind)}, not a regular file"),
        };
    }

    /// <summary>
    /// Reads all of <paramref name="path"/>, at most <paramref name="limit"/> bytes: a longer regular file is refused by its
    /// length before a byte is read, a pipe is read until limit + 1 bytes and then refused; the message names the limit.
    /// </summary>
    public static byte[] ReadAllBytes(string path, long limit, string what, bool allowPipe = false)
    {
        var kind = RequireReadable(path, what, allowPipe);
        using var stream = Open(path, kind, what, limit);
        var buffer = new BoundedBuffer(limit);
        while (true)
        {
            var read = stream.Read(buffer.Space());
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (!buffer.Advance(read))
            {
                throw TooLarge(path, what, limit);
            }
        }
    }

    /// <summary>Async <see cref="ReadAllBytes"/>.</summary>
    public static async Task<byte[]> ReadAllBytesAsync(string path, long limit, string what, bool allowPipe = false, CancellationToken cancellationToken = default)
    {
        var kind = RequireReadable(path, what, allowPipe);
        var stream = Open(path, kind, what, limit);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new BoundedBuffer(limit);
            while (true)
            {
                var read = await stream.ReadAsync(buffer.SpaceMemory(), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.ToArray();
                }

                if (!buffer.Advance(read))
                {
                    throw TooLarge(path, what, limit);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="ReadAllBytes"/> decoded as UTF-8 (strictly: invalid UTF-8 is refused, naming the input), a BOM skipped.
    /// </summary>
    public static string ReadAllText(string path, long limit, string what, bool allowPipe = false)
    {
        var bytes = ReadAllBytes(path, limit, what, allowPipe);
        try
        {
            var span = bytes.AsSpan();
            if (span.StartsWith("\uFEFF"u8))
            {
                span = span[3..];
            }

            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(span);
        }
        catch (DecoderFallbackException)
        {
            throw new InputFileException($"{what} {path} is not UTF-8 text");
        }
    }

    /// <summary>The exception for input over its limit.</summary>
    public static InputFileException TooLarge(string path, string what, long limit) =>
        new($"{what} {path} is larger than {limit} bytes, the limit for it");

    private static FileStream Open(string path, FileKind kind, string what, long limit)
    {
        var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0 });
        if (kind == FileKind.Regular && stream.Length is var length && length > limit)
        {
            stream.Dispose();
            throw new InputFileException($"{what} {path} is {length} bytes, larger than {limit} bytes, the limit for it");
        }

        return stream;
    }

    /// <summary>
    /// Bytes read in 1 MiB chunks up to limit + 1: a read that goes past the limit costs at most the limit in memory (a
    /// doubling buffer would cost up to twice that before the limit is even reached).
    /// </summary>
    private sealed class BoundedBuffer(long limit)
    {
        private const int ChunkSize = 1024 * 1024;
        private readonly List<byte[]> _full = [];
        private byte[] _current = [];
        private int _used;
        private long _total;

        /// <summary>Room for the next read; never more than one byte past the limit in all.</summary>
        public Span<byte> Space() => SpaceMemory().Span;

        /// <summary>Room for the next read, as memory.</summary>
        public Memory<byte> SpaceMemory()
        {
            if (_used == _current.Length)
            {
                if (_current.Length > 0)
                {
                    _full.Add(_current);
                }

                _current = new byte[(int)Math.Min(ChunkSize, Math.Max(1, limit + 1 - _total))];
                _used = 0;
            }

            return _current.AsMemory(_used);
        }

        /// <summary>Counts <paramref name="read"/> bytes; false once the total is past the limit.</summary>
        public bool Advance(int read)
        {
            _used += read;
            _total += read;
            return _total <= limit;
        }

        public byte[] ToArray()
        {
            var result = new byte[_total];
            var offset = 0;
            foreach (var chunk in _full)
            {
                chunk.CopyTo(result, offset);
                offset += chunk.Length;
            }

            _current.AsSpan(0, _used).CopyTo(result.AsSpan(offset));
            return result;
        }
    }

    /// <summary>Linux statx(2): the file type without opening the file (opening a FIFO blocks until a writer comes).</summary>
    private static class Statx
    {
        private const int AtFdCwd = -100;
        private const uint StatxType = 0x1;
        private const int ENOENT = 2, ENOTDIR = 20;
        private static bool _unavailable;

        public static bool TryGetMode(string path, out int mode, out bool missing)
        {
            mode = 0;
            missing = false;
            if (_unavailable)
            {
                return false;
            }

            // struct statx is 256 bytes with the same layout on every architecture; stx_mode is the u16 at offset 28.
            var buffer = new byte[256];
            try
            {
                if (statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is ENOENT or ENOTDIR)
                    {
                        missing = true;
                        return true;
                    }

                    return false;
                }
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                _unavailable = true;
                return false;
            }

            mode = BitConverter.ToUInt16(buffer, 28);
            return true;
        }

        [DllImport("libc", SetLastError = true, EntryPoint = "statx")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, uint mask, [Out] byte[] statxbuf);
    }
}
