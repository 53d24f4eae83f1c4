using System.Buffers;
using System.Security.Cryptography;
using Testbed.IO;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Metainfo;

/// <summary>Creates v1, v2 or hybrid torrents from a file, a directory or bytes in memory, hashing the pieces.</summary>
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
        if (options.Version != TorrentVersion.V1)
        {
            // A MemoryStream completes every read synchronously, so this never blocks on I/O.
            var source = new SourceFile([], content.Length, () => new MemoryStream(content.ToArray(), writable: false));
            return CreateV2Async(name, [source], multiFile: false, options, CancellationToken.None).GetAwaiter().GetResult();
        }

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
        if (options.Version != TorrentVersion.V1)
        {
            return await CreateV2Async(name, files, multiFile, options, cancellationToken).ConfigureAwait(false);
        }

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

    private static TorrentMetainfo Wrap(BencodeDictionary info, TorrentCreateOptions options, IReadOnlyDictionary<PiecesRoot, ReadOnlyMemory<byte>>? pieceLayers = null) =>
        TorrentMetainfo.Create(TorrentInfo.Parse(info.Encode()), options.TrackerTiers, options.Comment, options.CreatedBy, options.CreationDate, pieceLayers);

    private static async Task<TorrentMetainfo> CreateV2Async(string name, IReadOnlyList<SourceFile> sources, bool multiFile, TorrentCreateOptions options, CancellationToken cancellationToken)
    {
        PathSegments.Validate(name, "torrent name");
        // The file tree is a dictionary, so its files come in key byte order; a hybrid's v1 list must follow it.
        var files = sources.OrderBy(f => f.Path, Utf8PathComparer.Instance).ToList();
        var total = files.Sum(f => f.Length);
        var pieceLength = options.PieceLength ?? AutomaticPieceLength(total);
        if (!MerkleTree.IsPieceLength(pieceLength) || pieceLength > TorrentInfo.MaxPieceLength)
        {
            throw new ArgumentOutOfRangeException(nameof(options), pieceLength, $"a v2 or hybrid piece length must be a power of two from {MerkleTree.BlockSize} to {TorrentInfo.MaxPieceLength}");
        }

        var hybrid = options.Version == TorrentVersion.Hybrid;
        var roots = new PiecesRoot?[files.Count];
        var layers = new Dictionary<PiecesRoot, ReadOnlyMemory<byte>>();
        var v1Hashes = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(pieceLength);
        try
        {
            for (var index = 0; index < files.Count; index++)
            {
                var file = files[index];
                if (file.Length == 0)
                {
                    continue;
                }

                var leaves = new byte[checked((int)MerkleTree.BlockCount(file.Length) * MerkleTree.HashSize)];
                var leafOffset = 0;
                var stream = file.Open();
                await using (stream.ConfigureAwait(false))
                {
                    for (var remaining = file.Length; remaining > 0;)
                    {
                        var filled = (int)Math.Min(pieceLength, remaining);
                        try
                        {
                            await stream.ReadExactlyAsync(buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                        }
                        catch (EndOfStreamException)
                        {
                            throw new IOException($"'{string.Join('/', file.Path)}' shrank while it was being hashed");
                        }

                        remaining -= filled;
                        var blockHashes = MerkleTree.HashBlocks(buffer.AsSpan(0, filled));
                        blockHashes.CopyTo(leaves, leafOffset);
                        leafOffset += blockHashes.Length;
                        if (hybrid)
                        {
                            // In a multi-file hybrid a pad file follows every file up to the next piece (libtorrent pads the
                            // last one too, and doing the same gives the same info hashes): zeros in its v1 piece.
                            var v1PieceSize = multiFile ? pieceLength : filled;
                            buffer.AsSpan(filled, v1PieceSize - filled).Clear();
                            v1Hashes.Write(SHA1.HashData(buffer.AsSpan(0, v1PieceSize)));
                        }
                    }
                }

                var root = MerkleTree.FileRoot(leaves);
                roots[index] = root;
                if (file.Length > pieceLength)
                {
                    layers[root] = MerkleTree.PieceLayer(leaves, pieceLength);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var info = new BencodeDictionary
        {
            ["name"] = name,
            ["piece length"] = pieceLength,
            ["meta version"] = 2L,
            ["file tree"] = BuildFileTree(name, files, roots, multiFile),
        };
        if (hybrid)
        {
            info["pieces"] = v1Hashes.ToArray();
            if (multiFile)
            {
                var list = new BencodeList();
                for (var index = 0; index < files.Count; index++)
                {
                    list.Add(new BencodeDictionary { ["length"] = files[index].Length, ["path"] = new BencodeList(files[index].Path.Select(p => (BencodeValue)p)) });
                    var tail = files[index].Length % pieceLength;
                    if (tail != 0)
                    {
                        var pad = pieceLength - tail;
                        list.Add(new BencodeDictionary { ["attr"] = "p", ["length"] = pad, ["path"] = new BencodeList { ".pad", pad.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
                    }
                }

                info["files"] = list;
            }
            else
            {
                info["length"] = files[0].Length;
            }
        }

        if (options.IsPrivate)
        {
            info["private"] = 1L;
        }

        return Wrap(info, options, layers);
    }

    private static BencodeDictionary BuildFileTree(string name, IReadOnlyList<SourceFile> files, PiecesRoot?[] roots, bool multiFile)
    {
        var tree = new BencodeDictionary();
        for (var index = 0; index < files.Count; index++)
        {
            IReadOnlyList<string> path = multiFile ? files[index].Path : [name];
            var directory = tree;
            foreach (var component in path.Take(path.Count - 1))
            {
                if (directory.Get<BencodeDictionary>(component) is not { } child)
                {
                    child = new BencodeDictionary();
                    directory[component] = child;
                }

                directory = child;
            }

            var leaf = new BencodeDictionary { ["length"] = files[index].Length };
            if (roots[index] is { } root)
            {
                leaf["pieces root"] = root.ToArray();
            }

            directory[path[^1]] = new BencodeDictionary { [string.Empty] = leaf };
        }

        return tree;
    }

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

    // Orders paths component by component on UTF-8 bytes, the order of bencoded dictionary keys.
    private sealed class Utf8PathComparer : IComparer<IReadOnlyList<string>>
    {
        public static readonly Utf8PathComparer Instance = new();

        public int Compare(IReadOnlyList<string>? x, IReadOnlyList<string>? y)
        {
            ArgumentNullException.ThrowIfNull(x);
            ArgumentNullException.ThrowIfNull(y);
            for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
            {
                var order = System.Text.Encoding.UTF8.GetBytes(x[i]).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(y[i]));
                if (order != 0)
                {
                    return order;
                }
            }

            return x.Count.CompareTo(y.Count);
        }
    }

    private sealed record SourceFile(IReadOnlyList<string> Path, long Length, Func<Stream> Open);
}
