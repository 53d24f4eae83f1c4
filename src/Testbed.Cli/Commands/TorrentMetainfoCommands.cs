using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Testbed.IO;
using Testbed.Torrent.Metainfo;

namespace Testbed.Cli.Commands;

/// <summary>`testbed torrent create` and `testbed torrent info`: making and reading .torrent files.</summary>
public static class TorrentMetainfoCommands
{
    // Magnet links and URLs are printed as they are, not with '&' escaped for HTML.
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>`torrent create PATH --tracker URL [--piece-length N] -o FILE.torrent`.</summary>
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "File (single-file torrent) or directory (multi-file torrent)" };
        var trackers = new Option<string[]>("--tracker") { Description = "Tracker announce URL (http://, https:// or udp://); repeat for backup trackers, each its own tier", AllowMultipleArgumentsPerToken = false };
        var pieceLength = CliOptions.Integer("--piece-length", "Bytes per piece (default: automatic, a power of two from 16 KiB to 16 MiB)", 1, TorrentInfo.MaxPieceLength);
        var outputPath = new Option<string>("--output", "-o") { Description = "Where to write the .torrent (its directory must exist)", Required = true };
        var comment = new Option<string?>("--comment") { Description = "Optional comment" };
        var isPrivate = new Option<bool>("--private") { Description = "Set the private flag (BEP 27)" };
        var v2 = new Option<bool>("--v2") { Description = "Make a v2-only torrent (BEP 52: file tree, SHA-256 merkle trees, piece layers)" };
        var hybrid = new Option<bool>("--hybrid") { Description = "Make a hybrid torrent: v1 and v2 halves over the same files, v1 padded so each file starts on a piece" };

        var command = new Command("create", "Create a .torrent (v1 by default, or --v2 / --hybrid) from a file or directory")
        {
            path,
            trackers,
            pieceLength,
            outputPath,
            comment,
            isPrivate,
            v2,
            hybrid,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.GetValue(v2) && parseResult.GetValue(hybrid))
            {
                throw new CliUsageException("--v2 and --hybrid exclude each other (a hybrid already has a v2 half)");
            }

            var version = parseResult.GetValue(v2) ? TorrentVersion.V2 : parseResult.GetValue(hybrid) ? TorrentVersion.Hybrid : TorrentVersion.V1;
            var chosenPieceLength = parseResult.GetValue(pieceLength);
            if (version != TorrentVersion.V1 && chosenPieceLength is { } length && !MerkleTree.IsPieceLength(length))
            {
                throw new CliUsageException($"--piece-length {length}: a v2 or hybrid torrent needs a power of two of at least {MerkleTree.BlockSize}");
            }

            var urls = parseResult.GetValue(trackers) ?? [];
            foreach (var url in urls)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "udp"))
                {
                    throw new CliUsageException($"--tracker '{url}' is not an http://, https:// or udp:// URL");
                }
            }

            var source = CliOptions.NotEmpty(parseResult.GetValue(path), "PATH");
            if (InputFiles.KindOf(source) is var kind and not (FileKind.Regular or FileKind.Directory))
            {
                throw new CliUsageException(kind == FileKind.Missing
                    ? $"{source}: no such file or directory"
                    : $"{source} is {InputFiles.Describe(kind)}; a torrent is made of regular files");
            }

            var options = new TorrentCreateOptions
            {
                TrackerTiers = TorrentCreateOptions.OneTierEach(urls),
                PieceLength = chosenPieceLength,
                Version = version,
                Comment = parseResult.GetValue(comment),
                IsPrivate = parseResult.GetValue(isPrivate),
                CreationDate = DateTimeOffset.UtcNow,
            };

            // The output is checked (and reserved) before hashing starts; the source's kind too (a FIFO is refused, not read).
            await using var output = PendingOutput.Prepare(parseResult.GetValue(outputPath), "--output");
            var torrent = await TorrentCreator.CreateFromPathAsync(source, options, cancellationToken).ConfigureAwait(false);
            await output.CommitAsync(torrent.ToBytes(), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"created {Terminal.Safe(output.Target)}");
            WriteInfoHashes(torrent.Info);
            // A v2 or hybrid torrent's real files are its file tree; its v1 list or layout adds pad files.
            var realFiles = torrent.Info.Version == TorrentVersion.V1 ? torrent.Info.Files : torrent.Info.FileTree;
            Console.WriteLine($"files        {realFiles.Count}, {realFiles.Sum(f => f.Length)} bytes");
            Console.WriteLine($"pieces       {torrent.Info.PieceCount} x {torrent.Info.PieceLength} bytes");
            Console.WriteLine($"magnet       {Terminal.Safe(MagnetLink.FromMetainfo(torrent).ToString())}");
            return 0;
        });
        return command;
    }

    /// <summary>`torrent info FILE.torrent [--json]`.</summary>
    public static Command Info()
    {
        var file = new Argument<string>("file") { Description = "The .torrent file" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text" };
        var command = new Command("info", "Show a .torrent's info hash, layout and trackers");
        command.Arguments.Add(file);
        command.Options.Add(json);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var torrent = await TorrentMetainfo.LoadFileAsync(CliOptions.NotEmpty(parseResult.GetValue(file), "FILE"), cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    name = torrent.Info.Name,
                    version = VersionName(torrent.Info.Version),
                    info_hash = torrent.InfoHash.ToHex(),
                    info_hash_v1 = torrent.Info.InfoHashV1?.ToHex(),
                    info_hash_v2 = torrent.Info.InfoHashV2?.ToHex(),
                    info_hash_v2_truncated = torrent.Info.InfoHashV2?.Truncated.ToHex(),
                    magnet = MagnetLink.FromMetainfo(torrent).ToString(),
                    multi_file = torrent.Info.IsMultiFile,
                    total_length = torrent.Info.TotalLength,
                    piece_length = torrent.Info.PieceLength,
                    pieces = torrent.Info.PieceCount,
                    @private = torrent.Info.IsPrivate,
                    trackers = torrent.TrackerTiers,
                    comment = torrent.Comment,
                    created_by = torrent.CreatedBy,
                    creation_date = torrent.CreationDate?.ToString("O", CultureInfo.InvariantCulture),
                    files = torrent.Info.Files.Select(f => new { path = f.RelativePath, length = f.Length, offset = f.Offset, padding = f.IsPadding }),
                    file_tree = torrent.Info.FileTree.Select(f => new { path = f.RelativePath, length = f.Length, pieces_root = f.PiecesRoot?.ToHex() }),
                    piece_layers = torrent.PieceLayers.Count,
                }, JsonOptions));
                return 0;
            }

            // Every text from the torrent goes through Terminal.Safe: a name or comment can hold terminal escape sequences.
            Console.WriteLine($"name         {Terminal.Safe(torrent.Info.Name)}");
            Console.WriteLine($"version      {VersionName(torrent.Info.Version)}");
            WriteInfoHashes(torrent.Info);
            Console.WriteLine($"magnet       {Terminal.Safe(MagnetLink.FromMetainfo(torrent).ToString())}");
            Console.WriteLine($"layout       {(torrent.Info.IsMultiFile ? "multi-file" : "single-file")}{(torrent.Info.IsPrivate ? ", private" : string.Empty)}");
            Console.WriteLine($"size         {torrent.Info.TotalLength} bytes");
            Console.WriteLine($"pieces       {torrent.Info.PieceCount} x {torrent.Info.PieceLength} bytes");
            for (var tier = 0; tier < torrent.TrackerTiers.Count; tier++)
            {
                Console.WriteLine($"tracker tier {tier}: {Terminal.Safe(string.Join(", ", torrent.TrackerTiers[tier]))}");
            }

            if (torrent.Comment is not null)
            {
                Console.WriteLine($"comment      {Terminal.Safe(torrent.Comment)}");
            }

            if (torrent.CreatedBy is not null)
            {
                Console.WriteLine($"created by   {Terminal.Safe(torrent.CreatedBy)}");
            }

            if (torrent.CreationDate is { } date)
            {
                Console.WriteLine($"created      {date.ToString("u", CultureInfo.InvariantCulture)}");
            }

            // A v2-only torrent's pad files are only our layout, not in the torrent: its file tree is its file list.
            if (torrent.Info.Version != TorrentVersion.V2)
            {
                Console.WriteLine($"files        {torrent.Info.Files.Count}");
                foreach (var entry in torrent.Info.Files)
                {
                    Console.WriteLine($"  {entry.Length,14}  {Terminal.Safe(entry.RelativePath)}{(entry.IsPadding ? "  (padding)" : string.Empty)}");
                }
            }

            if (torrent.Info.Version != TorrentVersion.V1)
            {
                Console.WriteLine($"file tree    {torrent.Info.FileTree.Count} files, {torrent.PieceLayers.Count} piece layers");
                foreach (var entry in torrent.Info.FileTree)
                {
                    Console.WriteLine($"  {entry.Length,14}  {entry.PiecesRoot?.ToHex() ?? new string('-', 64)}  {Terminal.Safe(entry.RelativePath)}");
                }
            }

            return 0;
        });
        return command;
    }

    private static string VersionName(TorrentVersion version) => version switch
    {
        TorrentVersion.V1 => "v1",
        TorrentVersion.V2 => "v2",
        _ => "hybrid",
    };

    private static void WriteInfoHashes(TorrentInfo info)
    {
        if (info.InfoHashV1 is { } v1)
        {
            Console.WriteLine($"info hash    {v1}");
        }

        if (info.InfoHashV2 is { } v2)
        {
            Console.WriteLine($"info hash v2 {v2}");
            Console.WriteLine($"v2 truncated {v2.Truncated}");
        }
    }
}
