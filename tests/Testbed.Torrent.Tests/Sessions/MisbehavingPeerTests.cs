using System.Buffers;
using System.Buffers.Binary;
using Testbed.Torrent.Extensions;

namespace Testbed.Torrent.Tests.Sessions;

/// <summary>Hostile peers written in the test: corrupt pieces, oversized messages, request floods.</summary>
public sealed class MisbehavingPeerTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_peer_sending_corrupt_pieces_is_banned_and_the_download_completes_from_an_honest_peer()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "data.bin", 16 * 1024 * 8, 16 * 1024);
        using var listener = RawPeer.Listen();

        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"));
        get.AddPeer((System.Net.IPEndPoint)listener.LocalEndPoint!);

        // The liar: claims every piece, unchokes, answers every request with garbage.
        await using var liar = await RawPeer.AcceptAsync(listener, CancellationToken.None);
        await liar.SendAsync(StateMessage.HaveAll);
        await liar.SendAsync(StateMessage.Unchoke);
        var request = (BlockMessage?)await liar.ReceiveAsync(m => m is BlockMessage { Id: MessageId.Request }, Generous);
        Assert.NotNull(request);
        var garbage = new byte[request.Block.Length];
        Array.Fill(garbage, (byte)0xAB);
        await liar.SendAsync(new PieceMessage(request.Block.Piece, request.Block.Begin, new ReadOnlySequence<byte>(garbage)));

        Assert.True(await liar.WaitClosedAsync(Generous), "the liar was not disconnected");
        await SwarmTests.WaitUntil(() => get.BannedAddresses.Count == 1, Generous);
        Assert.Equal(0, get.Progress.PiecesHave);

        // An honest seeder on another address (127.0.0.2: the ban is per address) supplies the torrent.
        await using var seeder = new TorrentClient(new TorrentClientOptions { ListenEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.2"), 0) });
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
        Assert.Contains(System.Net.IPAddress.Loopback, get.BannedAddresses);
    }

    [Fact]
    public async Task An_oversized_message_gets_the_peer_disconnected()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "data.bin", 50_000, 16 * 1024);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);

        await using var peer = await RawPeer.ConnectAsync(seeder.LocalEndPoint!, torrent.InfoHash);
        // A piece message announcing 1 MiB: the bound is 16 KiB + 9, so it is refused before the body arrives.
        var head = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(head, 1 << 20);
        head[4] = (byte)MessageId.Piece;
        await peer.SendRawAsync(head);
        Assert.True(await peer.WaitClosedAsync(Generous));
        await SwarmTests.WaitUntil(() => seed.LastDisconnectReason?.Contains("exceeds", StringComparison.Ordinal) == true, Generous);
    }

    [Fact]
    public async Task A_request_larger_than_16_KiB_gets_the_peer_disconnected()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "data.bin", 200_000, 64 * 1024);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);

        await using var peer = await RawPeer.ConnectAsync(seeder.LocalEndPoint!, torrent.InfoHash);
        await peer.SendAsync(StateMessage.Interested);
        await peer.SendAsync(new BlockMessage(MessageId.Request, new BlockRequest(0, 0, 32 * 1024)));
        Assert.True(await peer.WaitClosedAsync(Generous));
    }

    [Fact]
    public async Task A_request_flood_gets_the_peer_disconnected_while_an_honest_peer_completes()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "data.bin", 4 << 20, 16 * 1024);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir, new TorrentSessionOptions { MaxQueuedUploads = 50 });

        await using var flooder = await RawPeer.ConnectAsync(seeder.LocalEndPoint!, torrent.InfoHash);
        await flooder.SendAsync(StateMessage.Interested);
        Assert.NotNull(await flooder.ReceiveAsync(m => m == StateMessage.Unchoke, Generous));

        // Thousands of requests in one burst, never reading the answers.
        var writer = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 256; i++)
        {
            WireCodec.Write(writer, new BlockMessage(MessageId.Request, new BlockRequest(i, 0, 16 * 1024)));
        }

        await flooder.SendRawAsync(writer.WrittenMemory);
        await SwarmTests.WaitUntil(() => seed.LastDisconnectReason?.Contains("flood", StringComparison.Ordinal) == true, Generous);

        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"));
        get.AddPeer(seeder.LocalEndPoint!);
        try
        {
            await get.WaitForCompletionAsync().WaitAsync(Generous);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"leecher {get.Progress} {get.LastDisconnectReason}; seeder {seed.Progress} {seed.LastDisconnectReason}");
        }

        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
    }

    [Fact]
    public async Task Peer_exchange_from_a_peer_leads_to_the_seeder()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "pex.bin", 100_000, 16 * 1024);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir);
        using var listener = RawPeer.Listen();

        await using var leecher = TestTorrents.NewClient();
        var get = await leecher.AddStartedAsync(torrent.Info, t.NewDirectory("get"));
        get.AddPeer((System.Net.IPEndPoint)listener.LocalEndPoint!);

        // The only peer the leecher knows has nothing, but tells it (ut_pex) where the seeder is.
        await using var gossip = await RawPeer.AcceptAsync(listener, CancellationToken.None);
        await gossip.SendAsync(StateMessage.HaveNone);
        var ours = (ExtendedMessage?)await gossip.ReceiveAsync(m => m is ExtendedMessage { ExtendedId: 0 }, Generous);
        var theirIds = ExtensionHandshake.Parse(ours!.Payload);
        Assert.Equal(ExtensionHandshake.UtPexId, theirIds.IdOf("ut_pex"));
        Assert.Equal(ExtensionHandshake.UtMetadataId, theirIds.IdOf("ut_metadata"));
        await gossip.SendAsync(new ExtendedMessage(0, new ExtensionHandshake(new Dictionary<string, byte> { ["ut_pex"] = 7 }).Encode()));
        await gossip.SendAsync(new ExtendedMessage(ExtensionHandshake.UtPexId, new PeerExchangeMessage([seeder.LocalEndPoint!], []).Encode()));

        await get.WaitForCompletionAsync().WaitAsync(Generous);
        TestTorrents.AssertSameFiles(torrent.Info, seedDir, get.Directory);
    }

    [Fact]
    public async Task Our_session_tells_peers_about_other_peers()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "pex.bin", 100_000, 16 * 1024);
        var options = new TorrentSessionOptions { PexInterval = TimeSpan.FromSeconds(1) };
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir, options);
        await using var middle = TestTorrents.NewClient();
        var get = await middle.AddStartedAsync(torrent.Info, t.NewDirectory("get"), options);
        get.AddPeer(seeder.LocalEndPoint!);
        await get.WaitForCompletionAsync().WaitAsync(Generous);

        await using var peer = await RawPeer.ConnectAsync(middle.LocalEndPoint!, torrent.InfoHash);
        await peer.SendAsync(StateMessage.HaveNone);
        await peer.SendAsync(new ExtendedMessage(0, new ExtensionHandshake(new Dictionary<string, byte> { ["ut_pex"] = 9 }).Encode()));
        var pex = (ExtendedMessage?)await peer.ReceiveAsync(m => m is ExtendedMessage { ExtendedId: 9 }, Generous);
        Assert.NotNull(pex);
        Assert.Contains(seeder.LocalEndPoint!, PeerExchangeMessage.Parse(pex.Payload).Added);
    }
}
