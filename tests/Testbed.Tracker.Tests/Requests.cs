using TrackerEvent = Testbed.Torrent.Trackers.TrackerEvent;

namespace Testbed.Tracker.Tests;

/// <summary>Builders for announces and ids used across the tests.</summary>
internal static class Requests
{
    public static InfoHash Hash(int n)
    {
        var bytes = new byte[20];
        BitConverter.TryWriteBytes(bytes.AsSpan(16), n);
        bytes[0] = 0xAB;
        return new InfoHash(bytes);
    }

    public static PeerId Peer(int n)
    {
        var bytes = Encoding.ASCII.GetBytes("-TB0001-000000000000");
        BitConverter.TryWriteBytes(bytes.AsSpan(16), n);
        return new PeerId(bytes);
    }

    public static PeerAddress V4(byte last) => PeerAddress.FromV4([10, 0, 0, last]);

    public static AnnounceRequest Announce(
        InfoHash hash,
        PeerId peer,
        ushort port = 6881,
        long left = 100,
        TrackerEvent announceEvent = TrackerEvent.None,
        int numWant = -1,
        uint? key = null) =>
        new(hash, peer, port, 0, 0, left, announceEvent, numWant, key, null, Compact: true, NoPeerId: false);

    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
        {
            // Unreserved characters stay as they are, the way real clients send them.
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }
}
