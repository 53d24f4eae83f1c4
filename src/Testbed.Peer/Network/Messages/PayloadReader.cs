using System.Numerics;
using Testbed.Torrent.Bencoding;

namespace Testbed.Peer.Network.Messages;

/// <summary>Reads bounded, typed fields of a swarm payload; a field that is missing or out of bounds throws naming it.</summary>
internal readonly struct PayloadReader(BencodeDictionary payload, string message)
{
    public string Text(string key, int maxLength) =>
        TextOrNull(key, maxLength) ?? throw Missing(key, $"a string of at most {maxLength} bytes");

    public string? TextOrNull(string key, int maxLength) => payload.TryGetValue(key, out var value) switch
    {
        false => null,
        true when value is BencodeString s && s.Length <= maxLength => s.Text,
        _ => throw Missing(key, $"a string of at most {maxLength} bytes"),
    };

    public byte[] Bytes(string key, int minLength, int maxLength) =>
        payload.TryGetValue(key, out var value) && value is BencodeString s && s.Length >= minLength && s.Length <= maxLength
            ? s.Bytes.ToArray()
            : throw Missing(key, minLength == maxLength ? $"{minLength} bytes" : $"{minLength}..{maxLength} bytes");

    public long Integer(string key, long min, long max) =>
        IntegerOrNull(key, min, max) ?? throw Missing(key, $"an integer in {min}..{max}");

    public long? IntegerOrNull(string key, long min, long max) => payload.TryGetValue(key, out var value) switch
    {
        false => null,
        true when value is BencodeInteger i && i.Value >= min && i.Value <= max => i.Value,
        _ => throw Missing(key, $"an integer in {min}..{max}"),
    };

    public BigInteger? WorkOrNull(string key) =>
        TextOrNull(key, SwarmMessages.MaxWorkHexLength) is not { } hex ? null : SwarmMessages.WorkFromHex(hex) ?? throw Missing(key, "chain work in hex");

    public BigInteger Work(string key) => WorkOrNull(key) ?? throw Missing(key, "chain work in hex");

    private SwarmMessageException Missing(string key, string what) => new($"{message}: '{key}' must be {what}");
}
