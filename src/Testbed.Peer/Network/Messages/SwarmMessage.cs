using Testbed.Torrent.Bencoding;

namespace Testbed.Peer.Network.Messages;

/// <summary>
/// A message of the network swarm: one BEP 10 extension payload (a bencoded dictionary) with its own encoding and bounds.
/// The extensions and our ids for them (the handshake's <c>m</c> dictionary) are named here; each type names the extension
/// it travels under; <see cref="Decode"/> turns a received payload into the type its extension and kind say, or names what
/// is wrong with it.
/// </summary>
public abstract record SwarmMessage
{
    /// <summary>The extension of a new block: hash, height, info hash, bencoded info dict and W3C traceparent.</summary>
    public const string Block = "tb_block";

    /// <summary>The extension of a signed transaction to add to the mempool.</summary>
    public const string Transaction = "tb_tx";

    /// <summary>The extension of catch-up: tip reports, chain-segment requests and offers.</summary>
    public const string Sync = "tb_sync";

    /// <summary>Our ids for the extensions (what peers send them under).</summary>
    public static readonly IReadOnlyDictionary<string, byte> LocalIds = new Dictionary<string, byte>(StringComparer.Ordinal)
    {
        [Block] = 20,
        [Transaction] = 21,
        [Sync] = 22,
    };

    /// <summary>The extension it travels under (a key of the handshake's <c>m</c>).</summary>
    public abstract string Extension { get; }

    /// <summary>The payload.</summary>
    public abstract BencodeDictionary Encode();

    /// <summary>The extension name of one of our ids, or null.</summary>
    public static string? NameOf(byte id) => LocalIds.FirstOrDefault(p => p.Value == id).Key;

    /// <summary>
    /// Decodes a payload received under <paramref name="extension"/>; throws a <see cref="SwarmMessageException"/> naming
    /// the field that is missing, of the wrong type or out of bounds.
    /// </summary>
    public static SwarmMessage Decode(string extension, BencodeDictionary payload) => extension switch
    {
        Block => BlockAnnouncement.Decode(payload),
        Transaction => TransactionMessage.Decode(payload),
        Sync => SyncMessage.Decode(payload),
        _ => throw new SwarmMessageException($"unknown extension '{extension}'"),
    };
}

/// <summary>A swarm payload that is not the message its extension says: the text names the field and what is wrong.</summary>
public sealed class SwarmMessageException(string message) : Exception(message);
