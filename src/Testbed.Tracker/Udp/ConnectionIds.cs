using System.Buffers.Binary;
using System.Security.Cryptography;
using Testbed.Tracker.Swarms;

namespace Testbed.Tracker.Udp;

/// <summary>
/// Stateless BEP 15 connection ids: the issue time (seconds) in the high half, a keyed SipHash-2-4 tag
/// over the client's address and that time in the low half. Nothing is stored per client, so a
/// flood of connects costs no memory, and an id is only good from the address it was sent to and
/// for <see cref="Lifetime"/> after it was sent.
/// </summary>
public sealed class ConnectionIds
{
    /// <summary>How long an id is accepted after it was issued (BEP 15: two minutes).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(16);
    private readonly TimeProvider _time;

    /// <summary>Creates an issuer with a fresh random secret.</summary>
    public ConnectionIds(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>A new id for <paramref name="client"/>.</summary>
    public ulong Issue(PeerAddress client)
    {
        var issued = (uint)_time.GetUtcNow().ToUnixTimeSeconds();
        return ((ulong)issued << 32) | Tag(client, issued);
    }

    /// <summary>Whether <paramref name="connectionId"/> was issued to <paramref name="client"/> within the lifetime.</summary>
    public bool IsValid(ulong connectionId, PeerAddress client)
    {
        var issued = (uint)(connectionId >> 32);
        var age = (long)(uint)_time.GetUtcNow().ToUnixTimeSeconds() - issued;
        if (age < 0 || age > (long)Lifetime.TotalSeconds)
        {
            return false;
        }

        return (uint)connectionId == Tag(client, issued);
    }

    private uint Tag(PeerAddress client, uint issued)
    {
        // 16 address + 4 time under the 16-byte secret: about 30 nanoseconds, on every announce and scrape.
        Span<byte> input = stackalloc byte[20];
        input[..16].Clear();
        client.WriteCompact(input[..16]);
        input[16 - 1] ^= client.IsV4 ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(input[16..], issued);
        return (uint)SipHash.Hash(_secret, input);
    }
}
