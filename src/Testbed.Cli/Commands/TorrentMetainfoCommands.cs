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

        var command = new Command("create", "Create a v1 .torrent from a file or directory");
        command.Arguments.Add(path);
        command.Options.Add(trackers);
        command.Options.Add(pieceLength);
        command.Options.Add(outputPath);
        command.Options.Add(comment);
        command.Options.Add(isPrivate);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
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
                PieceLength = parseResult.GetValue(pieceLength),
                Comment = parseResult.GetValue(comment),
                IsPrivate = parseResult.GetValue(isPrivate),
                CreationDate = DateTimeOffset.UtcNow,
            };

            // The output is checked (and reserved) before hashing starts; the source's kind too (a FIFO is refused, not read).
            await using var output = PendingOutput.Prepare(parseResult.GetValue(outputPath), "--output");
            var torrent = await TorrentCreator.CreateFromPathAsync(source, options, cancellationToken).ConfigureAwait(false);
            await output.CommitAsync(torrent.ToBytes(), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"created {Terminal.Safe(output.Target)}");
            Console.WriteLine($"info hash    {torrent.InfoHash}");
            Console.WriteLine($"files        {torrent.Info.Files.Count}, {torrent.Info.TotalLength} bytes");
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
                    info_hash = torrent.InfoHash.ToHex(),
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
                }, JsonOptions));
                return 0;
            }

            // Every text from the torrent goes through Terminal.Safe: a name or comment can hold terminal escape sequences.
            Console.WriteLine($"name         {Terminal.Safe(torrent.Info.Name)}");
            Console.WriteLine($"info hash    {torrent.InfoHash}");
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

            Console.WriteLine($"files        {torrent.Info.Files.Count}");
            foreach (var entry in torrent.Info.Files)
            {
                Console.WriteLine($"  {entry.Length,14}  {Terminal.Safe(entry.RelativePath)}{(entry.IsPadding ? "  (padding)" : string.Empty)}");
            }

            return 0;
        });
        return command;
    }
}
