namespace Testbed.Torrent.Tests.Interop;

/// <summary>Small python3-libtorrent programs the interop tests run with /usr/bin/python3.</summary>
internal static class LibtorrentScripts
{
    public const string Python = "/usr/bin/python3";

    /// <summary>
    /// Downloads SOURCE (a .torrent file, or a magnet link: then libtorrent fetches the metadata, and for v2 the piece
    /// layers, from the peer) into SAVE from the one peer HOST PORT; exit 0 once seeding (complete and checked).
    /// </summary>
    public const string Download = """
        import sys, time
        import libtorrent as lt
        source, save, host, port, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
                        'enable_upnp': False, 'enable_natpmp': False, 'enable_outgoing_utp': False,
                        'enable_incoming_utp': False, 'allow_multiple_connections_per_ip': True})
        if source.startswith('magnet:'):
            p = lt.parse_magnet_uri(source)
            p.save_path = save
            h = s.add_torrent(p)
        else:
            h = s.add_torrent({'ti': lt.torrent_info(source), 'save_path': save})
        deadline = time.time() + timeout
        last_connect = 0
        while time.time() < deadline:
            st = h.status()
            if st.is_seeding:
                print('complete', st.total_wanted, flush=True)
                sys.exit(0)
            if st.num_peers == 0 and time.time() - last_connect > 2:
                h.connect_peer((host, port))
                last_connect = time.time()
            time.sleep(0.05)
        st = h.status()
        print('timeout', st.state, st.progress, st.num_peers, flush=True)
        sys.exit(1)
        """;

    /// <summary>Seeds TORRENT from SAVE; prints its listening port once the data is checked, then serves until stdin closes.</summary>
    public const string Seed = """
        import sys, time
        import libtorrent as lt
        torrent, save = sys.argv[1], sys.argv[2]
        s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
                        'enable_upnp': False, 'enable_natpmp': False, 'enable_outgoing_utp': False,
                        'enable_incoming_utp': False, 'allow_multiple_connections_per_ip': True})
        h = s.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save})
        deadline = time.time() + 60
        while not h.status().is_seeding:
            if time.time() > deadline:
                print('error: not seeding', h.status().state, flush=True)
                sys.exit(1)
            time.sleep(0.05)
        print(s.listen_port(), flush=True)
        sys.stdin.read()
        """;
}
