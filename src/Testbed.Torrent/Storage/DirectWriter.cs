using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Testbed.Torrent.Storage;

/// <summary>
/// Writes the page-aligned middle of a large range with O_DIRECT (Linux x64/arm64): the bytes go from where they are when
/// that memory starts on a page (a downloaded piece's buffer, <see cref="PiecePicking.PageAlignedBuffers"/>), else from one
/// aligned bounce buffer, to the device instead of into freshly allocated page-cache pages. A download writes each byte
/// once and rarely reads it back soon, and a fresh cache page is expensive where freed memory goes back to the host (a VM with
/// virtio-balloon free page reporting: every such page costs a host fault): there it was most of a download's CPU.
/// Unaligned heads and tails, small ranges, and files or filesystems that refuse O_DIRECT (tmpfs) are left to the caller's
/// buffered path. Not thread-safe: the owner serializes calls.
/// </summary>
internal sealed class DirectWriter : IDisposable
{
    /// <summary>The alignment O_DIRECT asks for (offsets, lengths and memory), a page: enough for every common device.</summary>
    public const int Alignment = 4096;

    /// <summary>Ranges shorter than this are not worth a direct write.</summary>
    public const int MinimumLength = 64 * 1024;

    private const int BounceLength = 1 << 20;
    private const int WriteOnly = 0x1;
    private const int CloseOnExec = 0x80000;

    private readonly SafeFileHandle?[] _handles;
    private readonly bool[] _refused;
    private byte[]? _bounce;
    private int _bounceOffset;

    public DirectWriter(int files)
    {
        _handles = new SafeFileHandle?[files];
        _refused = new bool[files];
    }

    /// <summary>The O_DIRECT flag of this process's architecture, or null where it is not known (no direct writes there).</summary>
    private static int? DirectFlag =>
        !OperatingSystem.IsLinux() ? null
        : RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x4000,
            Architecture.Arm64 => 0x10000,
            _ => null,
        };

    /// <summary>The aligned part of [offset, offset + length) that a direct write would take, or an empty range.</summary>
    public static (long Start, long End) AlignedPart(long offset, int length)
    {
        var start = (offset + Alignment - 1) / Alignment * Alignment;
        var end = (offset + length) / Alignment * Alignment;
        return end - start >= MinimumLength ? (start, end) : (0, 0);
    }

    /// <summary>
    /// Writes <paramref name="data"/> (already aligned: see <see cref="AlignedPart"/>) at <paramref name="offset"/> of file
    /// <paramref name="file"/>; false, with nothing written, when O_DIRECT is not available for it (the caller writes buffered).
    /// Data that starts on a page in memory is written from where it is, other data through the bounce buffer.
    /// </summary>
    public bool TryWrite(int file, string path, ReadOnlySpan<byte> data, long offset)
    {
        var handle = OpenDirect(file, path);
        if (handle is null)
        {
            return false;
        }

        if (ToPageBoundary(data) == 0)
        {
            try
            {
                RandomAccess.Write(handle, data, offset);
                return true;
            }
            catch (IOException)
            {
                // Refused (EINVAL: the filesystem, or memory the GC moved off the page since it was looked at): buffered from now on.
                Refuse(file);
                return false;
            }
        }

        var bounce = Bounce();
        for (var done = 0; done < data.Length;)
        {
            var count = Math.Min(bounce.Length, data.Length - done);
            data.Slice(done, count).CopyTo(bounce);
            try
            {
                RandomAccess.Write(handle, bounce[..count], offset + done);
            }
            catch (IOException) when (done == 0)
            {
                // The filesystem accepted the flag at open but refuses the write (EINVAL): buffered from now on.
                Refuse(file);
                return false;
            }

            done += count;
        }

        return true;
    }

    /// <summary>Bytes from the start of <paramref name="data"/> to the next page boundary in memory (0: it starts on one).</summary>
    internal static unsafe int ToPageBoundary(ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            return (int)((Alignment - ((nint)start % Alignment)) % Alignment);
        }
    }

    private SafeFileHandle? OpenDirect(int file, string path)
    {
        if (_refused[file] || DirectFlag is not { } direct)
        {
            return null;
        }

        if (_handles[file] is { } open)
        {
            return open;
        }

        var fd = OpenFile(path, WriteOnly | CloseOnExec | direct, 0);
        if (fd < 0)
        {
            _refused[file] = true;
            return null;
        }

        return _handles[file] = new SafeFileHandle(fd, ownsHandle: true);
    }

    private void Refuse(int file)
    {
        _refused[file] = true;
        _handles[file]?.Dispose();
        _handles[file] = null;
    }

    /// <summary>A page-aligned window of a pinned array (pinned arrays never move, so the alignment holds).</summary>
    private Span<byte> Bounce()
    {
        if (_bounce is null)
        {
            _bounce = GC.AllocateUninitializedArray<byte>(BounceLength + Alignment, pinned: true);
            _bounceOffset = ToPageBoundary(_bounce);
        }

        return _bounce.AsSpan(_bounceOffset, BounceLength);
    }

    public void Dispose()
    {
        foreach (var handle in _handles)
        {
            handle?.Dispose();
        }
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "open")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int OpenFile([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
}
