using System.Text;
using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Metainfo;

/// <summary>Reads and checks a BEP 52 `file tree` and, for a hybrid, its agreement with the v1 file list.</summary>
internal static class FileTreeReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The tree's files in tree order (keys in byte order, depth first), each with its pieces root and its offset in
    /// the v2 layout, where every non-empty file starts on a piece boundary. <paramref name="v1MultiFile"/> is the v1
    /// half's layout for a hybrid (it decides), null for a v2-only torrent (one top-level file named like the torrent
    /// means single-file).
    /// </summary>
    public static (List<TorrentFile> Files, bool MultiFile) Read(string name, BencodeDictionary tree, int pieceLength, bool? v1MultiFile)
    {
        if (tree.Count == 0)
        {
            throw new MetainfoException("'file tree' is empty");
        }

        var entries = new List<(List<string> Path, long Length, PiecesRoot? Root)>();
        Walk(tree, [], entries);

        var singleFile = entries.Count == 1 && entries[0].Path.Count == 1 && entries[0].Path[0] == name && v1MultiFile != true;
        if (v1MultiFile == false && !singleFile)
        {
            throw new MetainfoException($"hybrid torrent disagrees: the v1 half is the single file '{name}' but the 'file tree' is not that one file");
        }

        var files = new List<TorrentFile>(entries.Count);
        long offset = 0;
        foreach (var (path, length, root) in entries)
        {
            // Bounded so offsets and piece counts stay far from overflow, whatever the lengths claim.
            if (length > TorrentInfo.MaxTotalLength - offset - pieceLength)
            {
                throw new MetainfoException($"'file tree' lengths add up to more than {TorrentInfo.MaxTotalLength} bytes at '{string.Join('/', path)}'");
            }

            IReadOnlyList<string> fullPath = singleFile ? path : [name, .. path];
            files.Add(new TorrentFile(fullPath, length, offset, PiecesRoot: root));
            offset += length;
            // The next file starts on a piece, as libtorrent lays it out: padding right after an unaligned file.
            if (length > 0)
            {
                offset = AlignUp(offset, pieceLength);
            }
        }

        return (files, !singleFile);
    }

    /// <summary>The v2 layout as one list with BEP 47 pad files (`.pad/N`) filling the gaps between files (none after the last).</summary>
    public static List<TorrentFile> WithPadFiles(IReadOnlyList<TorrentFile> files, string name, bool multiFile)
    {
        var layout = new List<TorrentFile>(files.Count * 2);
        long end = 0;
        foreach (var file in files)
        {
            if (file.Offset > end)
            {
                var padLength = file.Offset - end;
                IReadOnlyList<string> padPath = multiFile ? [name, ".pad", padLength.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [".pad", padLength.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                layout.Add(new TorrentFile(padPath, padLength, end, IsPadding: true));
            }

            layout.Add(file);
            end = file.Offset + file.Length;
        }

        return layout;
    }

    /// <summary>
    /// Refuses a hybrid whose halves describe different data: the v1 files other than pad files must be the tree's
    /// files in the same order with the same lengths, and each non-empty one must start where the v2 layout puts it.
    /// </summary>
    public static List<TorrentFile> CheckAgreement(IReadOnlyList<TorrentFile> v1Files, IReadOnlyList<TorrentFile> tree)
    {
        var real = v1Files.Where(f => !f.IsPadding).ToList();
        for (var index = 0; index < Math.Max(real.Count, tree.Count); index++)
        {
            if (index >= real.Count)
            {
                throw new MetainfoException($"hybrid torrent disagrees: '{tree[index].RelativePath}' is in the 'file tree' but not in the v1 file list");
            }

            if (index >= tree.Count)
            {
                throw new MetainfoException($"hybrid torrent disagrees: '{real[index].RelativePath}' is in the v1 file list but not in the 'file tree'");
            }

            var (v1, v2) = (real[index], tree[index]);
            if (!v1.Path.SequenceEqual(v2.Path, StringComparer.Ordinal))
            {
                throw new MetainfoException($"hybrid torrent disagrees: file {index} is '{v1.RelativePath}' in the v1 file list but '{v2.RelativePath}' in the 'file tree'");
            }

            if (v1.Length != v2.Length)
            {
                throw new MetainfoException($"hybrid torrent disagrees: '{v1.RelativePath}' is {v1.Length} bytes in the v1 file list but {v2.Length} in the 'file tree'");
            }

            if (v1.Length > 0 && v1.Offset != v2.Offset)
            {
                throw new MetainfoException($"hybrid torrent disagrees: '{v1.RelativePath}' starts at byte {v1.Offset} of the v1 data but at {v2.Offset} in the v2 layout (pad files must start every file on a piece)");
            }
        }

        // The v1 list keeps its pad files; each real file gains the pieces root the tree gives it.
        var merged = new List<TorrentFile>(v1Files.Count);
        var next = 0;
        foreach (var file in v1Files)
        {
            merged.Add(file.IsPadding ? file : file with { PiecesRoot = tree[next++].PiecesRoot });
        }

        return merged;
    }

    private static void Walk(BencodeDictionary directory, List<string> path, List<(List<string> Path, long Length, PiecesRoot? Root)> entries)
    {
        if (path.Count >= TorrentInfo.MaxPathDepth)
        {
            throw new MetainfoException($"'file tree' is deeper than {TorrentInfo.MaxPathDepth} levels at '{string.Join('/', path)}'");
        }

        foreach (var (key, value) in directory)
        {
            var where = path.Count == 0 ? "'file tree'" : $"'file tree' directory '{string.Join('/', path)}'";
            string component;
            try
            {
                component = StrictUtf8.GetString(key.Bytes.Span);
            }
            catch (DecoderFallbackException)
            {
                throw new MetainfoException($"{where} has a name that is not valid UTF-8");
            }

            PathSegments.Validate(component, $"{where} entry");
            List<string> childPath = [.. path, component];
            var shown = string.Join('/', childPath);
            if (value is not BencodeDictionary child)
            {
                throw new MetainfoException($"'file tree' entry '{shown}' is {BencodeEncoder.KindOf(value)}, not a dictionary");
            }

            if (child.TryGetValue(string.Empty, out var leafValue))
            {
                if (child.Count != 1)
                {
                    throw new MetainfoException($"'file tree' entry '{shown}' is both a file and a directory");
                }

                if (entries.Count >= TorrentInfo.MaxFiles)
                {
                    throw new MetainfoException($"'file tree' has more than {TorrentInfo.MaxFiles} files");
                }

                entries.Add(ReadFile(shown, childPath, leafValue));
            }
            else if (child.Count == 0)
            {
                throw new MetainfoException($"'file tree' directory '{shown}' is empty");
            }
            else
            {
                Walk(child, childPath, entries);
            }
        }
    }

    private static (List<string> Path, long Length, PiecesRoot? Root) ReadFile(string shown, List<string> path, BencodeValue leafValue)
    {
        if (leafValue is not BencodeDictionary leaf)
        {
            throw new MetainfoException($"'file tree' file '{shown}' is {BencodeEncoder.KindOf(leafValue)}, not a dictionary");
        }

        var length = leaf.Get<BencodeInteger>("length")?.Value ?? throw new MetainfoException($"'file tree' file '{shown}' has no 'length'");
        if (length < 0)
        {
            throw new MetainfoException($"'file tree' file '{shown}' length {length} is negative");
        }

        var root = leaf.Get<BencodeString>("pieces root");
        if (length == 0)
        {
            // BEP 52 gives empty files no tree; a root there would stand for data that does not exist.
            return root is null ? (path, 0, null) : throw new MetainfoException($"'file tree' file '{shown}' is empty but has a 'pieces root'");
        }

        if (root is null)
        {
            throw new MetainfoException($"'file tree' file '{shown}' has {length} bytes but no 'pieces root'");
        }

        if (root.Length != PiecesRoot.Length)
        {
            throw new MetainfoException($"'file tree' file '{shown}' has a 'pieces root' of {root.Length} bytes, not {PiecesRoot.Length}");
        }

        return (path, length, new PiecesRoot(root.Bytes.Span));
    }

    private static long AlignUp(long offset, int pieceLength) => checked((offset + pieceLength - 1) / pieceLength * pieceLength);
}
