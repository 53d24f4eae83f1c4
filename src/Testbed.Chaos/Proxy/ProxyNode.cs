using System.Net;

namespace Testbed.Chaos.Proxy;

/// <summary>
/// A node behind the proxy: it binds its listening and outgoing sockets to <see cref="PrivateAddress"/> (so the proxy
/// knows who dialled) and advertises <see cref="PublicAddress"/>, where the proxy listens on the same ports.
/// </summary>
public sealed record ProxyNode(string Name, IPAddress PrivateAddress, IPAddress PublicAddress);

/// <summary>
/// Per-run loopback addresses: node N binds 127.A.B.N and is reached at 127.A.(B+1).N. A and B are random per run so
/// parallel runs (CI runs test projects side by side) do not collide; all of 127.0.0.0/8 is local on Linux.
/// </summary>
public sealed record LoopbackPlan(byte A, byte B)
{
    /// <summary>Most nodes one plan addresses (host parts 1..250).</summary>
    public const int MaxNodes = 250;

    /// <summary>A plan with random A in 100..249 and even B in 0..252.</summary>
    public static LoopbackPlan CreateRandom() => new((byte)Random.Shared.Next(100, 250), (byte)(Random.Shared.Next(0, 127) * 2));

    /// <summary>The address node <paramref name="index"/> (1-based) binds.</summary>
    public IPAddress PrivateAddress(int index) => new([127, A, B, CheckIndex(index)]);

    /// <summary>The address other nodes dial to reach node <paramref name="index"/> through the proxy.</summary>
    public IPAddress PublicAddress(int index) => new([127, A, (byte)(B + 1), CheckIndex(index)]);

    /// <summary>The node for <paramref name="name"/> at <paramref name="index"/>.</summary>
    public ProxyNode Node(string name, int index) => new(name, PrivateAddress(index), PublicAddress(index));

    private static byte CheckIndex(int index) =>
        index is >= 1 and <= MaxNodes ? (byte)index : throw new ArgumentOutOfRangeException(nameof(index), index, $"node index must be 1..{MaxNodes}");
}
