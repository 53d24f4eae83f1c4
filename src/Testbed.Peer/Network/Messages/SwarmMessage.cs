using Testbed.Torrent.Bencoding;

namespace Testbed.Peer.Network.Messages;

/// <summary>
/// A message of the network swarm: one BEP 10 extension payload (a bencoded dictionary) with its own encoding and bounds.
/// Each type names the extension it travels under; <see cref="Decode"/> turns a received payload into the type its
/// extension and kind say, or names what is wrong with it.
/// </summary>
public abstract record SwarmMessage
{
    /// <summary>The extension it travels under (a key of the handshake's <c>m</c>).</summary>
    public abstract string Extension { get; }

    /// <summary>The payload.</summary>
    public abstract BencodeDictionary Encode();

    /// <summary>
    /// Decodes a payload received under <paramref name="extension"/>; throws a <see cref="SwarmMessageException"/> naming
    /// the field that is missing, of the wrong type or out of bounds.
    /// </summary>
    public static SwarmMessage Decode(string extension, BencodeDictionary payload) => extension switch
    {
        SwarmMessages.Block => BlockAnnouncement.Decode(payload),
        SwarmMessages.Transaction => TransactionMessage.Decode(payload),
        SwarmMessages.Sync => SyncMessage.Decode(payload),
        _ => throw new SwarmMessageException($"unknown extension '{extension}'"),
    };
}

/// <summary>A swarm payload that is not the message its extension says: the text names the field and what is wrong.</summary>
public sealed class SwarmMessageException(string message) : Exception(message);
