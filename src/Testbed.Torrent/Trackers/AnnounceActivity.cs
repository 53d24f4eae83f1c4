using System.Diagnostics;
using System.Diagnostics.Metrics;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Trackers;

/// <summary>The `torrent.announce` span and the announce counter, shared by the HTTP and UDP clients.</summary>
internal static class AnnounceActivity
{
    private static readonly Counter<long> Announces = TorrentTelemetry.Meter.CreateCounter<long>("torrent.tracker.announces", description: "Tracker announces, by result");

    /// <summary>
    /// Runs <paramref name="announce"/> inside a `torrent.announce` span and counts its result: ok, refused (the tracker
    /// said failure) or error. Only tracker errors and cancellation are recorded; anything else is a bug and passes as is.
    /// </summary>
    public static async Task<AnnounceResponse> TraceAsync(Uri tracker, AnnounceRequest request, Func<Task<AnnounceResponse>> announce)
    {
        using var activity = Start(tracker, request.InfoHash, request.Event);
        try
        {
            var response = await announce().ConfigureAwait(false);
            Succeeded(activity, tracker, response);
            return response;
        }
        catch (Exception error) when (error is TrackerException or OperationCanceledException)
        {
            Failed(activity, tracker, error);
            throw;
        }
    }

    private static Activity? Start(Uri tracker, InfoHash infoHash, TrackerEvent trackerEvent)
    {
        var activity = TorrentTelemetry.ActivitySource.StartActivity("torrent.announce", ActivityKind.Client);
        activity?.SetTag("torrent.infohash", infoHash.ToHex());
        activity?.SetTag("tracker.url", tracker.ToString());
        activity?.SetTag("torrent.event", trackerEvent.ToQueryValue() ?? "none");
        return activity;
    }

    private static void Succeeded(Activity? activity, Uri tracker, AnnounceResponse response)
    {
        activity?.SetTag("torrent.peers", response.Peers.Count);
        activity?.SetTag("tracker.interval_seconds", (long)response.Interval.TotalSeconds);
        Announces.Add(1, new KeyValuePair<string, object?>("tracker.scheme", tracker.Scheme), new KeyValuePair<string, object?>("result", "ok"));
    }

    private static void Failed(Activity? activity, Uri tracker, Exception error)
    {
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.SetTag("error.type", error.GetType().Name);
        Announces.Add(1, new KeyValuePair<string, object?>("tracker.scheme", tracker.Scheme), new KeyValuePair<string, object?>("result", error is TrackerFailureException ? "refused" : "error"));
    }
}
