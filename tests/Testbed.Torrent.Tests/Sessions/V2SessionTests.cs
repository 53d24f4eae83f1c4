using System.Buffers;
using System.Numerics;
using Testbed.Torrent.Extensions;
using Testbed.Torrent.Storage;

namespace Testbed.Torrent.Tests.Sessions;

/// <summary>BEP 52 in sessions: v2-only and hybrid transfers, merkle checks before writing and serving, hash requests, both swarms.</summary>
public sealed class V2SessionTests
{
    private const int Block = 16 * 1024;
    private const string DataFile = "data.bin";
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task A_multi_file_v2_or_hybrid_torrent_transfers_between_our_sessions(TorrentVersion version)
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        // Files of several pieces, of exactly one piece, of less than a block, and empty: every case of the v2 layout.
        var torrent = await t.CreateMultiFileAsync(seedDir, "bundle", [200_000, 64 * 1024, 5_000, 0, 130_001], 64 * 1024, version: version);
        Assert.Equal(version, torrent.Info.Version);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true });
        Assert.True(seed.IsComplete);

        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent, t.NewDirectory("get"));
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
        Assert.Equal(version == TorrentVersion.Hybrid, get.Layout!.HasSha1);
        Assert.True(get.Layout.HasMerkle);
    }

    [Fact]
    public async Task A_v2_magnet_gets_its_piece_layers_by_hash_request_and_checks_them_against_the_pieces_roots()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        // Two files of several pieces (one of 600 pieces: two runs of hash requests with uncles), one of a single piece.
        var torrent = await t.CreateMultiFileAsync(seedDir, "bundle", [600 * Block + 3, 5 * Block, 1000], Block, version: TorrentVersion.V2);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true });

        var v2 = torrent.Info.InfoHashV2!.Value;
        await using var leecher = TestTorrents.NewClient();
        var get = leecher.AddMagnet(v2.Truncated, t.NewDirectory("get"), infoHashV2: v2);
        await get.StartAsync();
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
        Assert.Equal(3, seed.HashRequestsAnswered);
        Assert.Equal(0, seed.HashRequestsRejected);
    }

    [Fact]
    public async Task Hashes_that_do_not_prove_up_to_the_pieces_root_get_the_sender_banned_and_nothing_is_used()
    {
        using var t = new TestTorrents();
        var (_, torrent) = await OneFileTorrentAsync(t, 5 * Block, Block, TorrentVersion.V2);
        var v2 = torrent.Info.InfoHashV2!.Value;
        using var listener = RawPeer.Listen();
        await using var leecher = TestTorrents.NewClient();
        var get = leecher.AddMagnet(v2.Truncated, t.NewDirectory("get"), infoHashV2: v2);
        await get.StartAsync();
        get.AddPeer((System.Net.IPEndPoint)listener.LocalEndPoint!);

        // The liar serves the real metadata, then answers the hash request with hashes that are not the file's.
        await using var liar = await RawPeer.AcceptAsync(listener, CancellationToken.None, v2: true);
        var ids = new Dictionary<string, byte> { ["ut_metadata"] = 3 };
        await liar.SendAsync(new ExtendedMessage(0, new ExtensionHandshake(ids, null, "liar", 10, torrent.Info.RawBytes.Length).Encode()));
        var ask = (ExtendedMessage?)await liar.ReceiveAsync(m => m is ExtendedMessage { ExtendedId: 3 }, Generous);
        Assert.NotNull(ask);
        var raw = torrent.Info.RawBytes.ToArray();
        await liar.SendAsync(new ExtendedMessage(ExtensionHandshake.UtMetadataId, new MetadataMessage(MetadataMessageType.Data, 0, raw.Length, raw).Encode()));
        var request = (HashRangeMessage?)await liar.ReceiveAsync(m => m is HashRangeMessage { Id: MessageId.HashRequest }, Generous);
        Assert.NotNull(request);
        Assert.Equal(new HashRange(torrent.Info.FileTree[0].PiecesRoot!.Value, 0, 0, 8, 2), request.Range);
        await liar.SendAsync(new HashesMessage(request.Range, new byte[8 * 32]));

        Assert.True(await liar.WaitClosedAsync(Generous));
        await SwarmTests.WaitUntil(() => get.BannedAddresses.Count == 1, Generous);
        Assert.Contains("do not prove up to the pieces root", get.LastDisconnectReason, StringComparison.Ordinal);
        Assert.Null(get.Layout);
    }

    [Fact]
    public async Task A_hybrid_v1_piece_grid_is_the_v2_grid_and_every_piece_checks_both_ways()
    {
        var sizes = new[] { 100_000, 32 * 1024, 1, 70_000 };
        var files = sizes.Select((n, i) => (Name: $"f{i}", Data: TestTorrents.RandomBytes(n, i + 3))).ToList();
        var dir = Path.Combine(Path.GetTempPath(), "tb-hybrid-" + Guid.NewGuid().ToString("n")[..8]);
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "h"));
            foreach (var (name, data) in files)
            {
                File.WriteAllBytes(Path.Combine(dir, "h", name), data);
            }

            var torrent = await TorrentCreator.CreateFromPathAsync(Path.Combine(dir, "h"), new TorrentCreateOptions { Version = TorrentVersion.Hybrid, PieceLength = 32 * 1024 });
            var layout = TorrentLayout.FromInfo(torrent.Info, torrent.PieceLayers);
            Assert.True(layout.HasSha1 && layout.HasMerkle);
            foreach (var file in torrent.Info.Files.Where(f => !f.IsPadding && f.Length > 0))
            {
                Assert.Equal(0, file.Offset % torrent.Info.PieceLength);
            }

            using var storage = new PieceStorage(layout, dir, readOnly: true);
            Assert.True(storage.Check().IsComplete);
            var piece = new byte[layout.PieceLength];
            var length = storage.Read(0, 0, piece);
            piece[length - 1] ^= 1;
            Assert.False(layout.Verify(0, piece.AsSpan(0, length)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_peer_sending_a_corrupt_block_in_a_v2_piece_is_caught_before_anything_is_written()
    {
        using var t = new TestTorrents();
        const int pieceLength = 4 * Block;
        var (seedDir, torrent) = await OneFileTorrentAsync(t, 3 * pieceLength, pieceLength, TorrentVersion.V2);
        var content = await File.ReadAllBytesAsync(Path.Combine(seedDir, DataFile));
        using var listener = RawPeer.Listen();

        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent, t.NewDirectory("get"));
        get.AddPeer((System.Net.IPEndPoint)listener.LocalEndPoint!);

        // The liar sends every block of whatever piece it is asked for correctly, except block 2 of each, with one bit flipped.
        await using var liar = await RawPeer.AcceptAsync(listener, CancellationToken.None);
        await liar.SendAsync(StateMessage.HaveAll);
        await liar.SendAsync(StateMessage.Unchoke);
        var closed = false;
        while (!closed)
        {
            var message = await liar.ReceiveAsync(m => m is BlockMessage { Id: MessageId.Request }, Generous);
            if (message is not BlockMessage request)
            {
                closed = true;
                continue;
            }

            var data = content.AsSpan((request.Block.Piece * pieceLength) + request.Block.Begin, request.Block.Length).ToArray();
            if (request.Block.Begin == 2 * Block)
            {
                data[100] ^= 0x01;
            }

            try
            {
                await liar.SendAsync(new PieceMessage(request.Block.Piece, request.Block.Begin, new ReadOnlySequence<byte>(data)));
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                // Banned mid-stream: the session closed the connection.
                closed = true;
            }
        }

        Assert.True(get.BannedAddresses.Count == 1, $"not banned: {get.LastDisconnectReason}; have {get.Progress.PiecesHave}");
        Assert.Contains("merkle", get.LastDisconnectReason, StringComparison.Ordinal);
        Assert.Equal(0, get.Progress.PiecesHave);
        // Nothing the liar sent reached the disk, not even its good blocks: the file is still the zeros it was created with.
        var onDisk = await File.ReadAllBytesAsync(Path.Combine(get.Directory, DataFile));
        Assert.All(onDisk, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Hash_requests_get_proofs_that_verify_and_ranges_we_do_not_have_get_hash_reject()
    {
        using var t = new TestTorrents();
        const int pieceLength = Block;
        var (seedDir, torrent) = await OneFileTorrentAsync(t, 13 * pieceLength + 5, pieceLength, TorrentVersion.V2);
        var root = torrent.Info.FileTree.Single().PiecesRoot!.Value;
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true });

        await using var peer = await RawPeer.ConnectAsync(seeder.LocalEndPoint!, torrent.InfoHash, v2: true);
        Assert.True(peer.Remote.SupportsV2);
        // 14 pieces: a tree 16 wide at the piece layer (height 0 here: one block per piece); pieces 8..11 with a proof to the root.
        var asked = new HashRange(root, 0, 8, 4, 3);
        await peer.SendAsync(new HashRangeMessage(MessageId.HashRequest, asked));
        var answer = (HashesMessage?)await peer.ReceiveAsync(m => m is HashesMessage, Generous);
        Assert.NotNull(answer);
        Assert.Equal(asked, answer.Range);
        Assert.Equal((4 + 2) * 32, answer.Hashes.Length);
        Assert.True(MerkleTree.VerifyProof(answer.Hashes, root, 0, 16, 8, 4));

        HashRange[] refused =
        [
            new(new PiecesRoot(new byte[32]), 0, 0, 2, 0),   // a root of no file here
            new(root, 0, 16, 2, 0),                          // past the end of the padded layer
            new(root, 0, 3, 2, 0),                           // not aligned on its length
            new(root, 0, 0, 4, 9),                           // a proof past the root
            new(root, 1, 0, 2, 0),                           // a layer other than the piece layer
        ];
        foreach (var range in refused)
        {
            await peer.SendAsync(new HashRangeMessage(MessageId.HashRequest, range));
            var reject = await peer.ReceiveAsync(m => m is HashRangeMessage or HashesMessage, Generous);
            Assert.Equal(new HashRangeMessage(MessageId.HashReject, range), reject);
        }

        Assert.Equal(1, seed.HashRequestsAnswered);
        Assert.Equal(refused.Length, seed.HashRequestsRejected);
    }

    [Fact]
    public async Task A_seeder_does_not_serve_a_v2_piece_that_changed_on_disk()
    {
        using var t = new TestTorrents();
        const int pieceLength = 2 * Block;
        var (seedDir, torrent) = await OneFileTorrentAsync(t, 4 * pieceLength, pieceLength, TorrentVersion.V2);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true, AllowedFastCount = 0 });

        // Corrupt piece 1 after the start-up check passed: the next read of it must fail the merkle check.
        await using (var file = new FileStream(Path.Combine(seedDir, DataFile), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = pieceLength + 7;
            file.WriteByte(0x5A);
        }

        await using var peer = await RawPeer.ConnectAsync(seeder.LocalEndPoint!, torrent.InfoHash, v2: true);
        await peer.SendAsync(StateMessage.HaveNone);
        await peer.SendAsync(StateMessage.Interested);
        Assert.NotNull(await peer.ReceiveAsync(m => m == StateMessage.Unchoke, Generous));
        await peer.SendAsync(new BlockMessage(MessageId.Request, new BlockRequest(1, Block, Block)));
        var rejected = await peer.ReceiveAsync(m => m is PieceMessage or BlockMessage { Id: MessageId.RejectRequest }, Generous);
        Assert.Equal(new BlockMessage(MessageId.RejectRequest, new BlockRequest(1, Block, Block)), rejected);
        Assert.Contains("piece 1 on disk fails its merkle check", seed.LastStorageError, StringComparison.Ordinal);

        // An intact piece is still served.
        await peer.SendAsync(new BlockMessage(MessageId.Request, new BlockRequest(2, 0, Block)));
        Assert.IsType<PieceMessage>(await peer.ReceiveAsync(m => m is PieceMessage or BlockMessage { Id: MessageId.RejectRequest }, Generous));
    }

    [Fact]
    public async Task A_hybrid_is_reached_under_its_truncated_v2_hash_and_answers_with_the_v2_bit()
    {
        using var t = new TestTorrents();
        var (seedDir, torrent) = await OneFileTorrentAsync(t, 40_000, Block, TorrentVersion.Hybrid);
        var v2 = torrent.Info.InfoHashV2!.Value.Truncated;
        Assert.NotEqual(torrent.InfoHash, v2);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent, seedDir, new TorrentSessionOptions { ReadOnly = true });
        Assert.Equal(v2, seed.InfoHashV2Truncated);

        foreach (var hash in new[] { torrent.InfoHash, v2 })
        {
            await using var peer = await RawPeer.ConnectAsync(seeder.LocalEndPoint!, hash, v2: true);
            Assert.Equal(hash, new InfoHash(peer.Remote.InfoHash));
            Assert.True(peer.Remote.SupportsV2);
            Assert.NotNull(await peer.ReceiveAsync(m => m == StateMessage.HaveAll, Generous));
        }
    }

    [Fact]
    public async Task A_hybrid_is_announced_to_its_trackers_under_both_info_hashes()
    {
        using var t = new TestTorrents();
        await using var tracker = new Interop.MiniTracker([]);
        var (seedDir, torrent) = await OneFileTorrentAsync(t, 40_000, Block, TorrentVersion.Hybrid);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir, new TorrentSessionOptions { ReadOnly = true }, [[tracker.AnnounceUrl]], torrent.PieceLayers);

        string[] Announced() => [.. tracker.RequestLines.Select(InfoHashOf).Distinct()];
        await SwarmTests.WaitUntil(() => Announced().Length == 2, Generous);
        Assert.Equal(new[] { torrent.Info.InfoHashV1!.Value.ToHex(), torrent.Info.InfoHashV2!.Value.Truncated.ToHex() }.Order(), Announced().Order());
    }

    /// <summary>A new seed directory holding one file, <see cref="DataFile"/>, of <paramref name="length"/> random bytes, and its torrent.</summary>
    private static async Task<(string SeedDir, TorrentMetainfo Torrent)> OneFileTorrentAsync(TestTorrents t, int length, int pieceLength, TorrentVersion version)
    {
        var seedDir = t.NewDirectory("seed");
        return (seedDir, await t.CreateSingleFileAsync(seedDir, DataFile, length, pieceLength, version: version));
    }

    // The info_hash of "GET /announce?...info_hash=%xx...": percent escapes decoded, every other character taken as its byte.
    private static string InfoHashOf(string requestLine)
    {
        var value = requestLine.Split(' ')[1].Split('?')[1].Split('&').Single(p => p.StartsWith("info_hash=", StringComparison.Ordinal))["info_hash=".Length..];
        var bytes = new List<byte>();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%')
            {
                bytes.Add(Convert.ToByte(value.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)value[i]);
            }
        }

        return Convert.ToHexStringLower([.. bytes]);
    }

    [Fact]
    public async Task A_v2_only_torrent_without_the_piece_layer_of_a_long_file_is_refused()
    {
        var content = TestTorrents.RandomBytes(5 * Block, 1);
        var torrent = TorrentCreator.CreateFromBytes("x", content, new TorrentCreateOptions { Version = TorrentVersion.V2, PieceLength = Block });
        Assert.True(BitOperations.IsPow2(torrent.Info.PieceLength));
        await using var client = new TorrentClient(new TorrentClientOptions());
        var error = Assert.Throws<ArgumentException>(() => client.Add(torrent.Info, Path.GetTempPath()));
        Assert.Contains("piece layer", error.Message, StringComparison.Ordinal);
    }
}
