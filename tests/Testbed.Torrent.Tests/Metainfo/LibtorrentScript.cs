using System.Text.Json;
using Testbed.Processes;

namespace Testbed.Torrent.Tests.Metainfo;

/// <summary>Runs a python3-libtorrent script (given inline) and reads the JSON document it prints.</summary>
internal static class LibtorrentScript
{
    private const string Python = "/usr/bin/python3";

    /// <summary>
    /// Python lines that end a script: a libtorrent session checks the files under <c>save_path</c> against <c>ti</c> (60 s at
    /// most), then <c>result</c> gets "verified_pieces" and is printed as JSON. Needs <c>json</c>, <c>time</c> and <c>lt</c> imported.
    /// </summary>
    public const string VerifyOnDiskAndPrint = """
        ses = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                          "enable_upnp": False, "enable_natpmp": False, "alert_mask": 0})
        h = ses.add_torrent({"ti": ti, "save_path": save_path})
        deadline = time.time() + 60
        while time.time() < deadline:
            s = h.status()
            if s.state in (lt.torrent_status.seeding, lt.torrent_status.finished) and s.num_pieces == ti.num_pieces():
                break
            time.sleep(0.05)
        result["verified_pieces"] = h.status().num_pieces
        print(json.dumps(result))
        """;

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/>; fails the test when python3 fails.</summary>
    public static async Task<JsonDocument> RunAsync(string script, params string[] arguments)
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing (the interop tests need Debian's python3 and python3-libtorrent)");
        }

        var run = await ChildProcess.RunAsync(Python, ["-c", script, .. arguments], TimeSpan.FromSeconds(120));
        Assert.True(run.ExitCode == 0, $"python3 failed ({run.ExitCode}): {run.StandardError}");
        return JsonDocument.Parse(run.StandardOutput);
    }
}
