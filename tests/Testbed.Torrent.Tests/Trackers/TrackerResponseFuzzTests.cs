using System.Net.Sockets;
using FsCheck.Xunit;
using Testbed.Torrent.Trackers;

namespace Testbed.Torrent.Tests.Trackers;

/// <summary>Whatever bytes a tracker sends, parsing ends in a result or a tracker error, never another exception.</summary>
public sealed class TrackerResponseFuzzTests
{
    private static readonly Uri Tracker = new("http://127.0.0.1:1/announce");

    private static readonly byte[] Valid = TrackerTestData.Latin1("d8:completei3e10:incompletei4e8:intervali900e12:min intervali60e5:peers12:abcdefghijkl6:peers618:abcdefghijklmnopqre");

    [Fact]
    public void The_seed_body_for_mutation_is_valid() =>
        Assert.Equal(3, HttpTrackerResponse.ParseAnnounce(Tracker, Valid, 100).Peers.Count);

    [Property(MaxTest = 300)]
    public bool Random_http_bodies_fail_only_as_tracker_errors(byte[] body) => ParsesOrTrackerError(body);

    [Property(MaxTest = 300)]
    public bool Mutated_http_bodies_fail_only_as_tracker_errors(int seed)
    {
        var random = new Random(seed);
        var body = (byte[])Valid.Clone();
        for (var i = 0; i < 1 + random.Next(3); i++)
        {
            body[random.Next(body.Length)] = (byte)random.Next(256);
        }

        return ParsesOrTrackerError(body);
    }

    [Property(MaxTest = 300)]
    public bool Random_udp_announce_responses_fail_only_as_format_errors(byte[] datagram)
    {
        try
        {
            var response = UdpTrackerProtocol.ReadAnnounceResponse(datagram, AddressFamily.InterNetwork, 100);
            return response.Peers.Count <= 100 && response.Interval >= TimeSpan.Zero;
        }
        catch (FormatException)
        {
            return true;
        }
    }

    private static bool ParsesOrTrackerError(byte[] body)
    {
        try
        {
            var response = HttpTrackerResponse.ParseAnnounce(Tracker, body, 100);
            return response.Peers.Count <= 100 && response.Interval >= TimeSpan.Zero;
        }
        catch (TrackerException)
        {
            return true;
        }
    }
}
