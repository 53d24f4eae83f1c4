using System.Globalization;
using Testbed.Processes;
using Testbed.Torrent.Dht;
using Testbed.Torrent.Tests.Interop;
using Xunit.Abstractions;

namespace Testbed.Torrent.Tests.Dht;

/// <summary>Our DHT and libtorrent 2.0.8's (python3-libtorrent) find each other on loopback and exchange peers both ways.</summary>
public sealed class DhtLibtorrentInteropTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    /// <summary>
    /// A libtorrent session with its DHT on IP, bootstrapped from our node at HOST PORT. libtorrent keeps loopback and
    /// same-/24 nodes out of its table and searches unless these restrictions are off. Prints `ready LISTENPORT` once its
    /// table has a node, adds a magnet of ANNOUNCE_HASH (so it announces itself on its listen port; the 2.0.8 bindings
    /// cannot call dht_announce, whose flags type they do not export) and forces a DHT announce every 5 s, then asks for
    /// WANTED_HASH every 2 s until a peer with WANTED_PORT appears (`found`, exit 0) or TIMEOUT passes (exit 1).
    /// Exits when stdin closes too.
    /// </summary>
    private const string Script = """
        import sys, time, threading, os, warnings
        import libtorrent as lt
        warnings.simplefilter('ignore')
        ip, host, port, announce_hash, wanted_hash, wanted_port, timeout, save = sys.argv[1:9]
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(3)), daemon=True).start()
        s = lt.session({'listen_interfaces': ip + ':0', 'enable_dht': True, 'enable_lsd': False, 'enable_upnp': False,
                        'enable_natpmp': False, 'dht_bootstrap_nodes': host + ':' + port,
                        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False, 'dht_enforce_node_id': False,
                        'dht_ignore_dark_internet': False, 'dht_prefer_verified_node_ids': False,
                        'alert_mask': lt.alert_category.all})
        s.add_dht_node((host, int(port)))
        deadline = time.time() + float(timeout)
        while s.status().dht_nodes == 0:
            if time.time() > deadline:
                print('error: no DHT node', flush=True); sys.exit(1)
            time.sleep(0.1)
        print('ready', s.listen_port(), flush=True)
        params = lt.parse_magnet_uri('magnet:?xt=urn:btih:' + announce_hash)
        params.save_path = save
        h = s.add_torrent(params)
        wanted = lt.sha1_hash(bytes.fromhex(wanted_hash))
        last = 0
        last_announce = 0
        while time.time() < deadline:
            if time.time() - last_announce > 5:
                h.force_dht_announce(); last_announce = time.time()
            if time.time() - last > 2:
                s.dht_get_peers(wanted); last = time.time()
            for a in s.pop_alerts():
                if isinstance(a, lt.dht_get_peers_reply_alert) and a.info_hash == wanted:
                    peers = [p[0] + ':' + str(p[1]) for p in a.peers()]
                    print('peers', ' '.join(peers), flush=True)
                    if any(p.endswith(':' + wanted_port) for p in peers):
                        print('found', flush=True); sys.exit(0)
            time.sleep(0.1)
        print('timeout', flush=True); sys.exit(1)
        """;

    [Fact]
    public async Task Our_node_and_libtorrent_find_each_other_and_exchange_peers_both_ways()
    {
        var directory = Directory.CreateTempSubdirectory("dht-interop-");
        try
        {
            var script = Path.Combine(directory.FullName, "dht.py");
            await File.WriteAllTextAsync(script, Script);
            await using var network = new DhtTestNetwork();
            var first = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(7, 1)));
            var second = await network.StartAsync(new DhtNodeOptions(DhtTestNetwork.Loopback(7, 2)) { Bootstrap = [first.LocalEndPoint] });
            var theirs = InfoHash.Compute("libtorrent announces this"u8);
            var ours = InfoHash.Compute("we announce this"u8);
            const int OurPort = 7002;
            string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
            using var lt = ChildProcess.Start(
                LibtorrentScripts.Python,
                [script, "127.0.7.3", "127.0.7.1", Text(first.LocalEndPoint.Port), theirs.ToHex(), ours.ToHex(), Text(OurPort), "80", directory.FullName],
                ChildProcessOptions.InDirectory(directory.FullName));
            using var cancel = new CancellationTokenSource(Bound);
            try
            {
                // Waited for by content, not as the first line: a warning on stderr may come first.
                string? ready;
                while ((ready = lt.Lines.FirstOrDefault(l => l.StartsWith("ready ", StringComparison.Ordinal))) is null)
                {
                    Assert.False(lt.HasExited, "libtorrent ended before its DHT had a node");
                    await Task.Delay(100, cancel.Token);
                }

                var libtorrentPort = int.Parse(ready.Split(' ')[1], CultureInfo.InvariantCulture);

                // libtorrent -> us: its get_peers took our token, its announce_peer was accepted, our lookup finds its peer.
                IReadOnlyList<IPEndPoint> found = [];
                while (!found.Contains(new IPEndPoint(IPAddress.Parse("127.0.7.3"), libtorrentPort)))
                {
                    Assert.False(lt.HasExited, "libtorrent ended early");
                    await Task.Delay(500, cancel.Token);
                    found = await second.GetPeersAsync(theirs, cancel.Token);
                }

                Assert.True(first.Statistics.AnnouncesStored + second.Statistics.AnnouncesStored >= 1);
                // Our node verified libtorrent (it answered our ping) and keeps it in its table.
                Assert.Contains(first.RoutingTable.Snapshot(), s => s.Node.EndPoint.Equals(new IPEndPoint(IPAddress.Parse("127.0.7.3"), libtorrentPort)));

                // us -> libtorrent: our announce reaches it (it gives us a token and accepts announce_peer), its lookup finds our peer.
                // Our first node knows two others, our second node and libtorrent: 2 acceptances include libtorrent's.
                Assert.Equal(2, first.RoutingTableCount);
                var accepted = 0;
                while (accepted < 2)
                {
                    accepted = await first.AnnounceAsync(ours, OurPort, cancel.Token);
                }

                Assert.True(await lt.WaitForExitAsync(Bound), "libtorrent did not find our peer in time");
                Assert.Equal(0, lt.ExitCode);
                Assert.Contains(lt.Lines, line => line.StartsWith("peers", StringComparison.Ordinal) && line.Contains($"127.0.7.1:{OurPort}", StringComparison.Ordinal));
            }
            finally
            {
                log.WriteLine(lt.Output);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
