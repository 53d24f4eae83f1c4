using System.Text;
using Testbed.Ledger;
using Testbed.Torrent.Metainfo;

namespace Testbed.Peer.Propagation;

/// <summary>A block as a one-file torrent (<c>HASH.jws</c>): the JWS bytes and their info dict, described once.</summary>
public sealed record BlockTorrent(Hash256 Hash, byte[] Content, TorrentInfo Info)
{
    /// <summary>Describes the block <paramref name="token"/> whose hash is <paramref name="hash"/>.</summary>
    public static BlockTorrent Of(string token, Hash256 hash)
    {
        var content = Encoding.ASCII.GetBytes(token);
        return new BlockTorrent(hash, content, TorrentCache.Describe(hash + ".jws", content));
    }
}
