using Testbed.Bytes;

namespace Testbed.Vm;

/// <summary>32-byte SHA-256 state root; ToString() is lowercase hex.</summary>
public readonly record struct StateRoot : IFixedBytes<StateRoot, Bytes32>
{
    /// <summary>Length of a root in bytes.</summary>
    public const int Length = 32;

    private readonly FixedBytes<Bytes32> _value;

    /// <summary>Creates a root from exactly 32 bytes.</summary>
    public StateRoot(ReadOnlySpan<byte> bytes) => _value = new(bytes, "a state root");

    private StateRoot(FixedBytes<Bytes32> value) => _value = value;

    /// <summary>Parses 64 hex digits (either case).</summary>
    public static StateRoot Parse(string hex) =>
        FixedBytes<Bytes32>.ParseHex<StateRoot>(hex ?? throw new ArgumentNullException(nameof(hex)), HexCase.Either, "a state root");

    /// <summary>Parses 64 hex digits, returning false instead of throwing.</summary>
    public static bool TryParse(string? hex, out StateRoot root) => FixedBytes<Bytes32>.TryParseHex(hex, HexCase.Either, out root);

    /// <summary>The 32 bytes of the root.</summary>
    public byte[] ToArray() => _value.ToArray();

    /// <summary>Writes the 32 bytes of the root into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => _value.CopyTo(destination);

    /// <summary>Lowercase hex of the 32 bytes.</summary>
    public override string ToString() => _value.ToHex();

    static StateRoot IFixedBytes<StateRoot, Bytes32>.Wrap(FixedBytes<Bytes32> value) => new(value);
}
