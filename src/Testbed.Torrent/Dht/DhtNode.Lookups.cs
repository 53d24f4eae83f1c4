using System.Diagnostics;
using System.Net;
using Testbed.Torrent.Dht.Krpc;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Dht;

/// <summary>Iterative lookups (find_node and get_peers) and announcing.</summary>
public sealed partial class DhtNode
{
    /// <summary>Most candidate nodes one lookup keeps in view.</summary>
    private const int MaxLookupCandidates = 256;

    /// <summary>Looks up <paramref name="target"/> iteratively; the k closest nodes that answered, closest first.</summary>
    public async Task<IReadOnlyList<NodeInfo>> FindNodeAsync(NodeId target, CancellationToken cancellationToken = default)
    {
        var result = await LookupAsync(target, null, cancellationToken).ConfigureAwait(false);
        return result.Closest;
    }

    /// <summary>
    /// Finds peers of <paramref name="infoHash"/>: an iterative get_peers lookup (α in flight, converging on the k closest
    /// nodes), plus any peers announced to this node itself. Emits a `dht.lookup` span.
    /// </summary>
    public async Task<IReadOnlyList<IPEndPoint>> GetPeersAsync(InfoHash infoHash, CancellationToken cancellationToken = default)
    {
        using var activity = StartLookupActivity(infoHash, "get_peers");
        var result = await LookupAsync(NodeId.From(infoHash), infoHash, cancellationToken).ConfigureAwait(false);
        var found = result.Peers.Union(_peers.Get(infoHash, _options.Lookup.MaxPeers)).Take(_options.Lookup.MaxPeers).ToList();
        EndLookupActivity(activity, result, found.Count);
        return found;
    }

    /// <summary>
    /// Announces that a peer of <paramref name="infoHash"/> listens on <paramref name="port"/> of our address (0: the DHT
    /// socket's port, sent as implied_port): a get_peers lookup, then announce_peer to the k closest nodes that gave a
    /// token. Returns how many accepted. Emits a `dht.lookup` span.
    /// </summary>
    public async Task<int> AnnounceAsync(InfoHash infoHash, int port, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        using var activity = StartLookupActivity(infoHash, "announce");
        var result = await LookupAsync(NodeId.From(infoHash), infoHash, cancellationToken).ConfigureAwait(false);
        var targets = result.Closest.Where(n => result.Tokens.ContainsKey(n.Id)).Take(_options.BucketSize).ToList();
        var answers = await Task.WhenAll(targets.Select(n => QueryAsync(
            n.EndPoint,
            n.Id,
            tid => new AnnouncePeerQuery(tid, Id, infoHash, port, result.Tokens[n.Id], ImpliedPort: port == 0),
            cancellationToken))).ConfigureAwait(false);
        var accepted = answers.Count(a => a is not null);
        EndLookupActivity(activity, result, result.Peers.Count);
        activity?.SetTag("dht.announced_to", accepted);
        return accepted;
    }

    private Activity? StartLookupActivity(InfoHash infoHash, string kind)
    {
        var activity = TorrentTelemetry.ActivitySource.StartActivity("dht.lookup");
        if (activity is not null)
        {
            if (_options.PeerName is { } peer)
            {
                activity.SetTag("testbed.peer", peer);
            }

            activity.SetTag("torrent.infohash", infoHash.ToHex());
            activity.SetTag("dht.kind", kind);
        }

        return activity;
    }

    private static void EndLookupActivity(Activity? activity, LookupResult result, int peersFound)
    {
        activity?.SetTag("dht.nodes_queried", result.Queried);
        activity?.SetTag("dht.peers_found", peersFound);
    }

    /// <summary>
    /// The Kademlia lookup: query the α closest unqueried candidates, learn closer nodes from the answers, and stop once
    /// the k closest candidates still standing have all answered (or the query budget is spent). With an info hash,
    /// the queries are get_peers and the peers and tokens in the answers are collected.
    /// </summary>
    private async Task<LookupResult> LookupAsync(NodeId target, InfoHash? infoHash, CancellationToken cancellationToken)
    {
        var candidates = new Dictionary<NodeId, Candidate>();
        foreach (var node in RoutingTable.Closest(target, _options.BucketSize * 2))
        {
            candidates[node.Id] = new Candidate(new NodeInfo(node.Id, node.EndPoint));
        }

        var result = new LookupResult();
        var inFlight = new Dictionary<Task<KrpcResponse?>, Candidate>();
        while (true)
        {
            var shortlist = candidates.Values.Where(c => c.Status != CandidateStatus.Failed)
                .OrderBy(c => c.Node.Id.Xor(target)).Take(_options.BucketSize).ToList();
            foreach (var next in shortlist.Where(c => c.Status == CandidateStatus.New))
            {
                if (inFlight.Count >= _options.Lookup.Alpha || result.Queried >= _options.Lookup.MaxQueries)
                {
                    break;
                }

                next.Status = CandidateStatus.InFlight;
                result.Queried++;
                var query = infoHash is { } hash
                    ? QueryAsync(next.Node.EndPoint, next.Node.Id, tid => new GetPeersQuery(tid, Id, hash), cancellationToken)
                    : QueryAsync(next.Node.EndPoint, next.Node.Id, tid => new FindNodeQuery(tid, Id, target), cancellationToken);
                inFlight[query] = next;
            }

            if (inFlight.Count == 0)
            {
                break;
            }

            var done = await Task.WhenAny(inFlight.Keys).ConfigureAwait(false);
            var candidate = inFlight[done];
            inFlight.Remove(done);
            var response = await done.ConfigureAwait(false);
            if (response is null || response.Sender != candidate.Node.Id)
            {
                // Silent, or answering under another id than the one we were told of: not a node to converge on.
                candidate.Status = CandidateStatus.Failed;
                continue;
            }

            candidate.Status = CandidateStatus.Answered;
            if (response.Token is { } token)
            {
                result.Tokens[candidate.Node.Id] = token;
            }

            foreach (var peer in response.Values ?? [])
            {
                if (result.Peers.Count < _options.Lookup.MaxPeers)
                {
                    result.Peers.Add(peer);
                }
            }

            foreach (var node in response.Nodes ?? [])
            {
                if (node.Id != Id && !node.EndPoint.Equals(LocalEndPoint) && candidates.Count < MaxLookupCandidates)
                {
                    candidates.TryAdd(node.Id, new Candidate(node));
                }
            }
        }

        result.Closest = [.. candidates.Values.Where(c => c.Status == CandidateStatus.Answered)
            .OrderBy(c => c.Node.Id.Xor(target)).Take(_options.BucketSize).Select(c => c.Node)];
        return result;
    }

    private enum CandidateStatus
    {
        New,
        InFlight,
        Answered,
        Failed,
    }

    private sealed class Candidate(NodeInfo node)
    {
        public NodeInfo Node { get; } = node;

        public CandidateStatus Status { get; set; }
    }

    private sealed class LookupResult
    {
        public int Queried { get; set; }

        public HashSet<IPEndPoint> Peers { get; } = [];

        public Dictionary<NodeId, byte[]> Tokens { get; } = [];

        public List<NodeInfo> Closest { get; set; } = [];
    }
}
