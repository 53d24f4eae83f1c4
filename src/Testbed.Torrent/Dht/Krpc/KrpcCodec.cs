using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using Testbed.Torrent.Bencoding;
using Testbed.Torrent.Metainfo;

namespace Testbed.Torrent.Dht.Krpc;

/// <summary>
/// KRPC over bencode: typed messages to datagrams and back. Decoding never throws: a datagram is either a message or a
/// <see cref="KrpcRefusal"/> that says whether it deserves an error reply (only well-formed queries do).
/// </summary>
public static class KrpcCodec
{
    /// <summary>Most peers a `values` list may hold (a 1500-byte datagram fits about 180).</summary>
    public const int MaxValues = 200;

    /// <summary>Longest error message accepted.</summary>
    public const int MaxErrorMessage = 256;

    /// <summary>Encodes a message to its datagram.</summary>
    public static byte[] Encode(KrpcMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var root = new BencodeDictionary { { "t", message.TransactionId } };
        switch (message)
        {
            case KrpcQuery query:
                root.Add("y", "q");
                root.Add("q", query.Method);
                root.Add("a", Arguments(query));
                break;
            case KrpcResponse response:
                root.Add("y", "r");
                root.Add("r", ResponseBody(response));
                break;
            case KrpcError error:
                root.Add("y", "e");
                root.Add("e", new BencodeList { error.Code, error.Message });
                break;
            default:
                throw new ArgumentException($"unknown KRPC message {message.GetType().Name}", nameof(message));
        }

        return root.Encode();
    }

    /// <summary>Decodes a datagram; false with a refusal for anything malformed or out of bounds.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> datagram, [NotNullWhen(true)] out KrpcMessage? message, [NotNullWhen(false)] out KrpcRefusal? refusal)
    {
        message = null;
        refusal = null;
        if (datagram.Length > KrpcLimits.MaxDatagram)
        {
            refusal = new KrpcRefusal(KrpcRefusalKind.TooLarge, $"datagram of {datagram.Length} bytes exceeds {KrpcLimits.MaxDatagram}");
            return false;
        }

        BencodeDictionary root;
        try
        {
            root = BencodeDecoder.Decode(datagram, KrpcLimits.Bencode) as BencodeDictionary
                ?? throw new Refused(KrpcRefusalKind.NotKrpc, "top-level value is not a dictionary");
        }
        catch (BencodeException e)
        {
            refusal = new KrpcRefusal(KrpcRefusalKind.NotBencode, e.Message);
            return false;
        }
        catch (Refused e)
        {
            refusal = new KrpcRefusal(e.Kind, e.Message);
            return false;
        }

        byte[]? transactionId = null;
        try
        {
            transactionId = Bytes(root, "t", 1, KrpcLimits.MaxTransactionId, KrpcRefusalKind.NotKrpc);
            var type = Bytes(root, "y", 1, 1, KrpcRefusalKind.NotKrpc);
            message = type[0] switch
            {
                (byte)'q' => DecodeQuery(root, transactionId),
                (byte)'r' => DecodeResponse(root, transactionId),
                (byte)'e' => DecodeError(root, transactionId),
                _ => throw new Refused(KrpcRefusalKind.NotKrpc, $"unknown message type 0x{type[0]:x2}"),
            };
            return true;
        }
        catch (Refused e)
        {
            var answerable = e.Kind is KrpcRefusalKind.BadArguments or KrpcRefusalKind.UnknownMethod;
            refusal = new KrpcRefusal(e.Kind, e.Message, answerable ? transactionId : null);
            return false;
        }
        catch (BencodeException e)
        {
            // A key of the wrong type (BencodeDictionary.Get): never expected past the checks above, refused all the same.
            refusal = new KrpcRefusal(KrpcRefusalKind.NotKrpc, e.Message);
            return false;
        }
    }

    private static BencodeDictionary Arguments(KrpcQuery query)
    {
        var arguments = new BencodeDictionary { { "id", query.Sender.ToArray() } };
        switch (query)
        {
            case PingQuery:
                break;
            case FindNodeQuery find:
                arguments.Add("target", find.Target.ToArray());
                break;
            case GetPeersQuery get:
                arguments.Add("info_hash", get.InfoHash.ToArray());
                break;
            case AnnouncePeerQuery announce:
                arguments.Add("info_hash", announce.InfoHash.ToArray());
                arguments.Add("port", announce.Port);
                arguments.Add("token", announce.Token);
                if (announce.ImpliedPort)
                {
                    arguments.Add("implied_port", 1);
                }

                break;
            default:
                throw new ArgumentException($"unknown KRPC query {query.GetType().Name}", nameof(query));
        }

        return arguments;
    }

    private static BencodeDictionary ResponseBody(KrpcResponse response)
    {
        var body = new BencodeDictionary { { "id", response.Sender.ToArray() } };
        if (response.Nodes is { } nodes)
        {
            body.Add("nodes", CompactNodes.Write(nodes));
        }

        if (response.Values is { } values)
        {
            var list = new BencodeList();
            foreach (var peer in values)
            {
                var entry = new byte[KrpcLimits.CompactPeerLength];
                CompactNodes.WriteEndPoint(peer, entry);
                list.Add(entry);
            }

            body.Add("values", list);
        }

        if (response.Token is { } token)
        {
            body.Add("token", token);
        }

        return body;
    }

    private static KrpcQuery DecodeQuery(BencodeDictionary root, byte[] transactionId)
    {
        var method = Encoding.ASCII.GetString(Bytes(root, "q", 1, KrpcLimits.MaxMethod, KrpcRefusalKind.NotKrpc));
        if (!root.TryGetValue("a", out var value) || value is not BencodeDictionary arguments)
        {
            throw new Refused(KrpcRefusalKind.NotKrpc, "query has no argument dictionary 'a'");
        }

        // From here on the datagram is a query with a transaction id: what is wrong is worth an error reply.
        const KrpcRefusalKind bad = KrpcRefusalKind.BadArguments;
        var sender = new NodeId(Bytes(arguments, "id", NodeId.Length, NodeId.Length, bad));
        return method switch
        {
            "ping" => new PingQuery(transactionId, sender),
            "find_node" => new FindNodeQuery(transactionId, sender, new NodeId(Bytes(arguments, "target", NodeId.Length, NodeId.Length, bad))),
            "get_peers" => new GetPeersQuery(transactionId, sender, new InfoHash(Bytes(arguments, "info_hash", InfoHash.Length, InfoHash.Length, bad))),
            "announce_peer" => DecodeAnnounce(arguments, transactionId, sender),
            _ => throw new Refused(KrpcRefusalKind.UnknownMethod, $"method '{Printable(method)}' is not served"),
        };
    }

    private static AnnouncePeerQuery DecodeAnnounce(BencodeDictionary arguments, byte[] transactionId, NodeId sender)
    {
        const KrpcRefusalKind bad = KrpcRefusalKind.BadArguments;
        var infoHash = new InfoHash(Bytes(arguments, "info_hash", InfoHash.Length, InfoHash.Length, bad));
        var token = Bytes(arguments, "token", 1, KrpcLimits.MaxToken, bad);
        var implied = Integer(arguments, "implied_port", required: false, 0, 1, bad) == 1;
        // With implied_port the source port is used, so the port argument only has to be a port-sized number.
        var port = Integer(arguments, "port", required: true, implied ? 0 : 1, IPEndPoint.MaxPort, bad)!.Value;
        return new AnnouncePeerQuery(transactionId, sender, infoHash, (int)port, token, implied);
    }

    private static KrpcResponse DecodeResponse(BencodeDictionary root, byte[] transactionId)
    {
        const KrpcRefusalKind bad = KrpcRefusalKind.BadReply;
        if (!root.TryGetValue("r", out var value) || value is not BencodeDictionary body)
        {
            throw new Refused(bad, "response has no dictionary 'r'");
        }

        var sender = new NodeId(Bytes(body, "id", NodeId.Length, NodeId.Length, bad));
        List<NodeInfo>? nodes = null;
        if (body.ContainsKey("nodes"))
        {
            var compact = Bytes(body, "nodes", 0, KrpcLimits.MaxDatagram, bad);
            if (compact.Length % KrpcLimits.CompactNodeLength != 0)
            {
                throw new Refused(bad, $"'nodes' of {compact.Length} bytes is not a multiple of {KrpcLimits.CompactNodeLength}");
            }

            nodes = CompactNodes.Parse(compact);
        }

        List<IPEndPoint>? values = null;
        if (body.TryGetValue("values", out var valuesValue))
        {
            if (valuesValue is not BencodeList list || list.Count > MaxValues)
            {
                throw new Refused(bad, $"'values' is not a list of at most {MaxValues} peers");
            }

            values = new List<IPEndPoint>(list.Count);
            foreach (var item in list)
            {
                if (item is not BencodeString { Length: KrpcLimits.CompactPeerLength } peer)
                {
                    throw new Refused(bad, $"a peer in 'values' is not {KrpcLimits.CompactPeerLength} bytes");
                }

                var span = peer.Bytes.Span;
                var port = BinaryPrimitives.ReadUInt16BigEndian(span[4..]);
                if (port != 0)
                {
                    values.Add(new IPEndPoint(new IPAddress(span[..4]), port));
                }
            }
        }

        var token = body.ContainsKey("token") ? Bytes(body, "token", 1, KrpcLimits.MaxToken, bad) : null;
        return new KrpcResponse(transactionId, sender, nodes, values, token);
    }

    private static KrpcError DecodeError(BencodeDictionary root, byte[] transactionId)
    {
        if (!root.TryGetValue("e", out var value) || value is not BencodeList { Count: >= 1 } list || list[0] is not BencodeInteger code)
        {
            throw new Refused(KrpcRefusalKind.BadReply, "error has no list 'e' starting with a code");
        }

        var text = list.Count > 1 && list[1] is BencodeString { Length: <= MaxErrorMessage } s ? s.Text : "";
        return new KrpcError(transactionId, (int)Math.Clamp(code.Value, int.MinValue, int.MaxValue), text);
    }

    private static byte[] Bytes(BencodeDictionary dictionary, string key, int minLength, int maxLength, KrpcRefusalKind kind)
    {
        if (!dictionary.TryGetValue(key, out var value))
        {
            throw new Refused(kind, $"'{key}' is missing");
        }

        if (value is not BencodeString text)
        {
            throw new Refused(kind, $"'{key}' is not a byte string");
        }

        if (text.Length < minLength || text.Length > maxLength)
        {
            throw new Refused(kind, minLength == maxLength
                ? $"'{key}' is {text.Length} bytes, expected {minLength}"
                : $"'{key}' is {text.Length} bytes, expected {minLength} to {maxLength}");
        }

        return text.Bytes.ToArray();
    }

    private static long? Integer(BencodeDictionary dictionary, string key, bool required, long min, long max, KrpcRefusalKind kind)
    {
        if (!dictionary.TryGetValue(key, out var value))
        {
            return required ? throw new Refused(kind, $"'{key}' is missing") : null;
        }

        if (value is not BencodeInteger integer || integer.Value < min || integer.Value > max)
        {
            throw new Refused(kind, $"'{key}' is not an integer from {min} to {max}");
        }

        return integer.Value;
    }

    private static string Printable(string text) =>
        string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : "?"));

    /// <summary>Internal control flow of the decoder; never escapes <see cref="TryDecode"/>.</summary>
    private sealed class Refused(KrpcRefusalKind kind, string message) : Exception(message)
    {
        public KrpcRefusalKind Kind { get; } = kind;
    }
}
