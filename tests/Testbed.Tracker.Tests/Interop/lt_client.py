#!/usr/bin/python3
"""libtorrent (python3-libtorrent) helper for the tracker's interoperability tests.

  lt_client.py make DATA_FILE TORRENT_OUT TRACKER_URL   create a torrent announcing to one tracker
  lt_client.py run TORRENT SAVE_DIR                      join the swarm; prints 'listening PORT',
                                                         'tracker_reply N', 'finished'; a leecher
                                                         exits 0 once it has every piece
  lt_client.py seed TORRENT SAVE_DIR                     as run, but keeps seeding until killed
"""
import sys
import time

import libtorrent as lt


def make(data_file, torrent_out, tracker_url):
    fs = lt.file_storage()
    lt.add_files(fs, data_file)
    t = lt.create_torrent(fs, 16 * 1024, lt.create_torrent.v1_only)
    t.add_tracker(tracker_url)
    import os
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(data_file)))
    with open(torrent_out, "wb") as f:
        f.write(lt.bencode(t.generate()))
    print(str(lt.torrent_info(torrent_out).info_hash()), flush=True)


def run(torrent, save_dir, keep_seeding):
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True,
        "alert_mask": lt.alert.category_t.all_categories,
    }
    ses = lt.session(settings)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save_dir
    handle = ses.add_torrent(params)
    print("listening %d" % ses.listen_port(), flush=True)
    finished = False
    deadline = time.time() + 600
    while time.time() < deadline:
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert):
                print("tracker_reply %d" % alert.num_peers, flush=True)
            elif isinstance(alert, (lt.tracker_error_alert, lt.tracker_warning_alert)):
                print("tracker_problem %s" % alert.message(), flush=True)
        status = handle.status()
        if status.is_seeding and not finished:
            finished = True
            print("finished", flush=True)
            if not keep_seeding:
                return 0
        time.sleep(0.1)
    return 1


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], sys.argv[4])
        sys.exit(0)
    sys.exit(run(sys.argv[2], sys.argv[3], sys.argv[1] == "seed"))
