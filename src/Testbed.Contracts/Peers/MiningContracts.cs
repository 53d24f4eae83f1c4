namespace Testbed.Contracts.Peers;

/// <summary>The miner's state: idle, continuous or on-demand, with its counters.</summary>
public sealed record MiningStatus(string State, long BlocksMined, long FaultyBlocksMined, int Withheld, int Threads);

/// <summary>Body of <c>POST /mining</c>: action start, stop or mine (with blocks).</summary>
public sealed record MiningRequest(string? Action = null, int? Blocks = null)
{
    /// <summary>Start continuous mining.</summary>
    public static MiningRequest Start { get; } = new("start", null);

    /// <summary>Stop continuous mining.</summary>
    public static MiningRequest Stop { get; } = new("stop", null);

    /// <summary>Mine <paramref name="blocks"/> blocks now.</summary>
    public static MiningRequest Mine(int blocks) => new("mine", blocks);
}

/// <summary>A block mined on request: its hash and height, whether a fault made it invalid and whether it was withheld.</summary>
public sealed record MinedBlockReport(string Hash, long Height, bool Faulty, bool Withheld);

/// <summary>Answer to <c>POST /mining</c> with action mine: the blocks mined and the miner afterwards.</summary>
public sealed record MineResult(IReadOnlyList<MinedBlockReport> Mined, MiningStatus Status);
