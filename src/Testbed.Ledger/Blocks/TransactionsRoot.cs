using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Testbed.Ledger.Blocks;

/// <summary>
/// Commitment to a block's ordered transactions: SHA-256 over, for each transaction in block order, its token's length
/// as u32 big-endian followed by the token's ASCII bytes (the empty list hashes the empty string).
/// </summary>
public static class TransactionsRoot
{
    public static Hash256 Compute(IEnumerable<string> tokens)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var token in tokens)
        {
            var bytes = Encoding.ASCII.GetBytes(token);
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return new Hash256(hash.GetHashAndReset());
    }
}
