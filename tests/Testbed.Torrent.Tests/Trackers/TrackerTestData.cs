using System.Text;
using Testbed.Torrent.Trackers;

namespace Testbed.Torrent.Tests.Trackers;

internal static class TrackerTestData
{
    // Bytes chosen to need escaping: a space, '%', '&', '+', 0x00 and 0xff among them.
    public static readonly InfoHash AwkwardHash = new([0x20, 0x25, 0x26, 0x2b, 0x00, 0xff, 0x41, 0x7e, 0x2d, 0x2e, 0x5f, 0x80, 0x3d, 0x3f, 0x2f, 0x23, 0x01, 0x02, 0x03, 0x04]);

    public static byte[] PeerId(char fill) => Encoding.ASCII.GetBytes("-TB0001-" + new string(fill, 12));

    public static AnnounceRequest Request(InfoHash? hash = null, char peer = 'a', int port = 6881, TrackerEvent trackerEvent = TrackerEvent.Started, long left = 1000) =>
        new(hash ?? AwkwardHash, PeerId(peer), port) { Event = trackerEvent, Left = left, Key = 0xdeadbeef };

    public static TrackerClientOptions FastOptions => new()
    {
        HttpTimeout = TimeSpan.FromSeconds(20),
        UdpInitialTimeout = TimeSpan.FromMilliseconds(300),
        UdpMaxAttempts = 3,
        RetryAttempts = 2,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        MinimumInterval = TimeSpan.FromMilliseconds(100),
        FailureRetryInterval = TimeSpan.FromMilliseconds(200),
    };

    public static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);
}
