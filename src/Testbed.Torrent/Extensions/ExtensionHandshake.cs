using Testbed.Torrent.Bencoding;

namespace Testbed.Torrent.Extensions;

/// <summary>The BEP 10 extension handshake: which extension messages a peer supports and under which ids, plus a few facts about it.</summary>
/// <param name="MessageIds">Extension name to the id the sender wants to receive it under (0 = disabled).</param>
/// <param name="ListenPort">The sender's listening port (`p`), if it gave one.</param>
/// <param name="Client">The sender's client name and version (`v`).</param>
/// <param name="RequestQueue">How many outstanding requests the sender accepts (`reqq`).</param>
/// <param name="MetadataSize">Size of the info dictionary in bytes (BEP 9 `metadata_size`), if the sender has it.</param>
public sealed record ExtensionHandshake(
    IReadOnlyDictionary<string, byte> MessageIds,
    int? ListenPort = null,
    string? Client = null,
    int? RequestQueue = null,
    int? MetadataSize = null)
{
    /// <summary>The id we receive ut_metadata messages under.</summary>
    public const byte UtMetadataId = 1;

    /// <summary>The id we receive ut_pex messages under.</summary>
    public const byte UtPexId = 2;

    /// <summary>The largest info dictionary we will fetch from peers (BEP 9 leaves the bound to the client).</summary>
    public const int MaxMetadataSize = 8 * 1024 * 1024;

    /// <summary>The id the peer assigned to an extension, or null when it does not support it.</summary>
    public byte? IdOf(string name) => MessageIds.TryGetValue(name, out var id) && id != 0 ? id : null;

    /// <summary>Encodes the handshake payload (the bencoded dictionary after extended id 0).</summary>
    public byte[] Encode()
    {
        var m = new BencodeDictionary();
        foreach (var (name, id) in MessageIds)
        {
            m.Add(name, (long)id);
        }

        var dict = new BencodeDictionary { { "m", m } };
        if (ListenPort is { } p)
        {
            dict.Add("p", (long)p);
        }

        if (Client is { } v)
        {
            dict.Add("v", v);
        }

        if (RequestQueue is { } q)
        {
            dict.Add("reqq", (long)q);
        }

        if (MetadataSize is { } size)
        {
            dict.Add("metadata_size", (long)size);
        }

        return dict.Encode();
    }

    /// <summary>Parses a handshake payload; unknown keys are ignored, out-of-range values refused.</summary>
    public static ExtensionHandshake Parse(ReadOnlyMemory<byte> payload)
    {
        var dict = ExtensionPayload.Decode(payload, "extension handshake is not a valid bencoded dictionary");

        var ids = new Dictionary<string, byte>(StringComparer.Ordinal);
        if (dict.TryGetValue("m", out var mValue) && mValue is BencodeDictionary m)
        {
            foreach (var (key, value) in m)
            {
                if (value is BencodeInteger { Value: >= 0 and <= 255 } id && ids.Count < 64)
                {
                    ids[key.Text] = (byte)id.Value;
                }
            }
        }

        int? Int(string key, long min, long max) =>
            dict.TryGetValue(key, out var v) && v is BencodeInteger i && i.Value >= min && i.Value <= max ? (int)i.Value : null;

        var client = dict.TryGetValue("v", out var vv) && vv is BencodeString s && s.Length <= 128 ? s.Text : null;
        return new ExtensionHandshake(ids, Int("p", 1, 65535), client, Int("reqq", 1, 100_000), Int("metadata_size", 1, MaxMetadataSize));
    }
}
