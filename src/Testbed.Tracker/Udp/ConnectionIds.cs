using System.Buffers.Binary;
using System.Security.Cryptography;
using Testbed.Tracker.Swarms;

namespace Testbed.Tracker.Udp;

/// <summary>
/// Stateless BEP 15 connection ids: the issue time (seconds) in the high half, a keyed SHA-256 tag
/// over the client's address and that time in the low half. Nothing is stored per client, so a
/// flood of connects costs no memory, and an id is only good from the address it was sent to and
/// for <see cref="Lifetime"/> after it was sent.
/// </summary>
public sealed class ConnectionIds
{
    /// <summary>How long an id is accepted after it was issued (BEP 15: two minutes).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    private readonly byte[] secret = RandomNumberGenerator.GetBytes(16);
    private readonly TimeProvider time;

    /// <summary>Creates an issuer with a fresh random secret.</summary>
    public ConnectionIds(TimeProvider? time = null) => this.time = time ?? TimeProvider.System;

    /// <summary>A new id for <paramref name="client"/>.</summary>
    public ulong Issue(PeerAddress client)
    {
        var issued = (uint)time.GetUtcNow().ToUnixTimeSeconds();
        return ((ulong)issued << 32) | Tag(client, issued);
    }

    /// <summary>Whether <paramref name="connectionId"/> was issued to <paramref name="client"/> within the lifetime.</summary>
    public bool IsValid(ulong connectionId, PeerAddress client)
    {
        var issued = (uint)(connectionId >> 32);
        var age = (long)(uint)time.GetUtcNow().ToUnixTimeSeconds() - issued;
        if (age < 0 || age > (long)Lifetime.TotalSeconds)
        {
            return false;
        }

        return (uint)connectionId == Tag(client, issued);
    }

    private uint Tag(PeerAddress client, uint issued)
    {
        // 16 secret + 16 address + 4 time = 36 bytes: one SHA-256 block, about 0.2 microseconds.
        Span<byte> input = stackalloc byte[36];
        secret.CopyTo(input);
        input.Slice(16, 16).Clear();
        client.WriteCompact(input.Slice(16, 16));
        input[32 - 1] ^= client.IsV4 ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(input[32..], issued);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(input, digest);
        return BinaryPrimitives.ReadUInt32BigEndian(digest);
    }
}
