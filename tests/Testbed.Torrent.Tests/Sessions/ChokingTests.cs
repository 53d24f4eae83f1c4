namespace Testbed.Torrent.Tests.Sessions;

/// <summary>The choker: a limited number of upload slots plus a rotating optimistic unchoke.</summary>
public sealed class ChokingTests
{
    [Fact]
    public async Task Three_interested_peers_share_one_slot_and_the_optimistic_unchoke_in_turn()
    {
        using var t = new TestTorrents();
        var seedDir = t.NewDirectory("seed");
        var torrent = await t.CreateSingleFileAsync(seedDir, "choke.bin", 50_000, 16 * 1024, seed: 5);
        await using var seeder = TestTorrents.NewClient();
        var seed = await seeder.AddStartedAsync(torrent.Info, seedDir, new TorrentSessionOptions { UploadSlots = 1, ChokeInterval = TimeSpan.FromMilliseconds(500), AllowedFastCount = 0 });

        var peers = new List<RawPeer>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var peer = await RawPeer.ConnectAsync(seeder.LocalEndPoint!, torrent.InfoHash);
                await peer.SendAsync(StateMessage.HaveNone);
                await peer.SendAsync(StateMessage.Interested);
                peers.Add(peer);
            }

            // Every peer gets its turn (one regular slot, one optimistic slot, three peers) and somebody is choked again.
            var outcomes = await Task.WhenAll(peers.Select(async p =>
            {
                var unchoked = await p.ReceiveAsync(m => m == StateMessage.Unchoke, TimeSpan.FromSeconds(60)) is not null;
                try
                {
                    return (unchoked, choked: unchoked && await p.ReceiveAsync(m => m == StateMessage.Choke, TimeSpan.FromSeconds(15)) is not null);
                }
                catch (OperationCanceledException)
                {
                    // This peer kept its slot for the whole wait.
                    return (unchoked, choked: false);
                }
            }));
            Assert.All(outcomes, o => Assert.True(o.unchoked));
            Assert.Contains(outcomes, o => o.choked);
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }
}
