using System.Buffers;
using System.Security.Cryptography;
using Testbed.IO;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Metainfo;

/// <summary>Creates v1 torrents from a file, a directory or bytes in memory, hashing the pieces.</summary>
public static class TorrentCreator
{
    /// <summary>Smallest automatic piece length (one BitTorrent block).</summary>
    public const int MinAutomaticPieceLength = 16 * 1024;

    /// <summary>Largest automatic piece length.</summary>
    public const int MaxAutomaticPieceLength = 16 * 1024 * 1024;

    /// <summary>
    /// A power of two aiming at roughly 1,000 to 2,000 pieces, between 16 KiB and 16 MiB: few enough
    /// hashes to keep the .torrent small, enough pieces for a swarm to share work.
    /// </summary>
    public static int AutomaticPieceLength(long totalLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalLength);
        var pieceLength = (long)MinAutomaticPieceLength;
        while (pieceLength < MaxAutomaticPieceLength && totalLength / pieceLength > 2000)
        {
            pieceLength *= 2;
        }

        return (int)pieceLength;
    }

    /// <summary>Creates a torrent for a file (single-file layout) or a directory (multi-file layout, files in ordinal path order).</summary>
    public static async Task<TorrentMetainfo> CreateFromPathAsync(string path, TorrentCreateOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        if (path.Length == 0)
        {
            throw new InputFileException("the path to make a torrent of is empty");
        }

        var full = Path.GetFullPath(path);
        // Regular files and directories only: a FIFO or a device has no length to hash (and reading one may never end).
        var kind = InputFiles.KindOf(full);
        if (kind == FileKind.Regular)
        {
            var name = Path.GetFileName(full);
            var source = new SourceFile([], new FileInfo(full).Length, () => OpenRead(full));
            return await CreateAsync(name, [source], multiFile: false, options, cancellationToken).ConfigureAwait(false);
        }

        if (kind == FileKind.Missing)
        {
            throw new FileNotFoundException($"no file or directory at '{path}'", path);
        }

        if (kind != FileKind.Directory)
        {
            throw new InputFileException($"'{path}' is {InputFiles.Describe(kind)}; a torrent is made of regular files");
        }

        var root = new DirectoryInfo(Path.TrimEndingDirectorySeparator(full));
        var files = new List<SourceFile>();
        Collect(root, [], files);
        if (files.Count == 0)
        {
            throw new MetainfoException($"directory '{path}' holds no files");
        }

        files.Sort((a, b) => ComparePaths(a.Path, b.Path));
        return await CreateAsync(root.Name, files, multiFile: true, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a single-file torrent over bytes in memory (a block's JWS, a chain segment).</summary>
    public static TorrentMetainfo CreateFromBytes(string name, ReadOnlyMemory<byte> content, TorrentCreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pieceLength = ChoosePieceLength(content.Length, options);
        var hashes = new byte[checked((int)(((long)content.Length + pieceLength - 1) / pieceLength * InfoHash.Length))];
        for (var piece = 0; (long)piece * pieceLength < content.Length; piece++)
        {
            var start = piece * pieceLength;
            SHA1.HashData(content.Span.Slice(start, Math.Min(pieceLength, content.Length - start)), hashes.AsSpan(piece * InfoHash.Length, InfoHash.Length));
        }

        var info = BuildInfo(name, [new SourceFile([], content.Length, () => throw new InvalidOperationException())], multiFile: false, pieceLength, hashes, options.IsPrivate);
        return Wrap(info, options);
    }

    private static async Task<TorrentMetainfo> CreateAsync(string name, IReadOnlyList<SourceFile> files, bool multiFile, TorrentCreateOptions options, CancellationToken cancellationToken)
    {
        PathSegments.Validate(name, "torrent name");
        var total = files.Sum(f => f.Length);
        var pieceLength = ChoosePieceLength(total, options);
        var hashes = await HashPiecesAsync(files, total, pieceLength, cancellationToken).ConfigureAwait(false);
        var info = BuildInfo(name, files, multiFile, pieceLength, hashes, options.IsPrivate);
        return Wrap(info, options);
    }

    private static int ChoosePieceLength(long total, TorrentCreateOptions options)
    {
        if (options.PieceLength is { } chosen)
        {
            if (chosen is <= 0 or > TorrentInfo.MaxPieceLength)
            {
                throw new ArgumentOutOfRangeException(nameof(options), chosen, $"piece length must be in 1..{TorrentInfo.MaxPieceLength}");
            }

            return chosen;
        }

        return AutomaticPieceLength(total);
    }

    private static TorrentMetainfo Wrap(BencodeDictionary info, TorrentCreateOptions options) =>
        TorrentMetainfo.Create(TorrentInfo.Parse(info.Encode()), options.TrackerTiers, options.Comment, options.CreatedBy, options.CreationDate);

    private static BencodeDictionary BuildInfo(string name, IReadOnlyList<SourceFile> files, bool multiFile, int pieceLength, byte[] hashes, bool isPrivate)
    {
        var info = new BencodeDictionary
        {
            ["name"] = name,
            ["piece length"] = pieceLength,
            ["pieces"] = hashes,
        };
        if (multiFile)
        {
            info["files"] = new BencodeList(files.Select(f => (BencodeValue)new BencodeDictionary
            {
                ["length"] = f.Length,
                ["path"] = new BencodeList(f.Path.Select(p => (BencodeValue)p)),
            }));
        }
        else
        {
            info["length"] = files[0].Length;
        }

        if (isPrivate)
        {
            info["private"] = 1L;
        }

        return info;
    }

    private static async Task<byte[]> HashPiecesAsync(IReadOnlyList<SourceFile> files, long total, int pieceLength, CancellationToken cancellationToken)
    {
        var pieceCount = checked((int)((total + pieceLength - 1) / pieceLength));
        var hashes = new byte[checked(pieceCount * InfoHash.Length)];
        var buffer = ArrayPool<byte>.Shared.Rent(pieceLength);
        try
        {
            var filled = 0;
            var piece = 0;
            foreach (var file in files)
            {
                var stream = file.Open();
                await using (stream.ConfigureAwait(false))
                {
                    long remaining = file.Length;
                    while (remaining > 0)
                    {
                        var want = (int)Math.Min(pieceLength - filled, remaining);
                        var read = await stream.ReadAsync(buffer.AsMemory(filled, want), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            throw new IOException($"'{string.Join('/', file.Path)}' shrank while it was being hashed");
                        }

                        filled += read;
                        remaining -= read;
                        if (filled == pieceLength)
                        {
                            SHA1.HashData(buffer.AsSpan(0, filled), hashes.AsSpan(piece++ * InfoHash.Length, InfoHash.Length));
                            filled = 0;
                        }
                    }
                }
            }

            if (filled > 0)
            {
                SHA1.HashData(buffer.AsSpan(0, filled), hashes.AsSpan(piece++ * InfoHash.Length, InfoHash.Length));
            }

            return hashes;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Collect(DirectoryInfo directory, IReadOnlyList<string> prefix, List<SourceFile> files)
    {
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            // Symbolic links are skipped so a torrent never reaches outside the chosen directory.
            if (entry.LinkTarget is not null)
            {
                continue;
            }

            IReadOnlyList<string> path = [.. prefix, entry.Name];
            PathSegments.Validate(entry.Name, "file name");
            switch (entry)
            {
                case DirectoryInfo sub:
                    Collect(sub, path, files);
                    break;
                case FileInfo file:
                    var fullName = file.FullName;
                    if (InputFiles.KindOf(fullName) is var kind and not FileKind.Regular)
                    {
                        throw new InputFileException($"'{fullName}' is {InputFiles.Describe(kind)}; a torrent is made of regular files");
                    }

                    files.Add(new SourceFile(path, file.Length, () => OpenRead(fullName)));
                    break;
            }
        }
    }

    private static int ComparePaths(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            var order = string.CompareOrdinal(a[i], b[i]);
            if (order != 0)
            {
                return order;
            }
        }

        return a.Count.CompareTo(b.Count);
    }

    private static FileStream OpenRead(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0, Options = FileOptions.SequentialScan | FileOptions.Asynchronous });

    private sealed record SourceFile(IReadOnlyList<string> Path, long Length, Func<Stream> Open);
}
