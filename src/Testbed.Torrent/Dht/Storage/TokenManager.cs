using System.Net;
using System.Security.Cryptography;

namespace Testbed.Torrent.Dht.Storage;

/// <summary>
/// Write tokens (BEP 5): HMAC-SHA256 of the querier's IP address under a secret that rotates every
/// <see cref="RotationInterval"/> (5 minutes); tokens of the current and the previous secret are accepted, so a token
/// lives 5 to 10 minutes and only for the address it was given to. Thread-safe.
/// </summary>
public sealed class TokenManager
{
    /// <summary>Bytes of a token on the wire.</summary>
    public const int TokenLength = 8;

    private const int SecretLength = 32;
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private byte[] _current = RandomNumberGenerator.GetBytes(SecretLength);
    private byte[] _previous = RandomNumberGenerator.GetBytes(SecretLength);
    private DateTimeOffset _rotatedAt;

    /// <summary>Creates the manager; its first secret starts now.</summary>
    public TokenManager(TimeProvider? time = null, TimeSpan? rotationInterval = null)
    {
        _time = time ?? TimeProvider.System;
        RotationInterval = rotationInterval ?? TimeSpan.FromMinutes(5);
        _rotatedAt = _time.GetUtcNow();
    }

    /// <summary>How often the secret changes.</summary>
    public TimeSpan RotationInterval { get; }

    /// <summary>The token for <paramref name="address"/> under the current secret.</summary>
    public byte[] Create(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            Rotate();
            return Compute(_current, address);
        }
    }

    /// <summary>Whether <paramref name="token"/> was given to <paramref name="address"/> under the current or previous secret.</summary>
    public bool IsValid(ReadOnlySpan<byte> token, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (token.Length != TokenLength)
        {
            return false;
        }

        byte[] now, before;
        lock (_gate)
        {
            Rotate();
            now = _current;
            before = _previous;
        }

        return CryptographicOperations.FixedTimeEquals(token, Compute(now, address))
            || CryptographicOperations.FixedTimeEquals(token, Compute(before, address));
    }

    private void Rotate()
    {
        var now = _time.GetUtcNow();
        var elapsed = now - _rotatedAt;
        if (elapsed < RotationInterval)
        {
            return;
        }

        // After two intervals or more without use, the old current secret is too old to honour as well.
        _previous = elapsed < RotationInterval * 2 ? _current : RandomNumberGenerator.GetBytes(SecretLength);
        _current = RandomNumberGenerator.GetBytes(SecretLength);
        _rotatedAt += RotationInterval * Math.Floor(elapsed / RotationInterval);
    }

    private static byte[] Compute(byte[] secret, IPAddress address)
    {
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return HMACSHA256.HashData(secret, normalized.GetAddressBytes())[..TokenLength];
    }
}
