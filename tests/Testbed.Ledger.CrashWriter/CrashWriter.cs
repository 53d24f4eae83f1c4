using System.Globalization;
using Testbed.Ledger.Chain;
using Testbed.Ledger.Consensus;
using Testbed.Ledger.Mining;
using Testbed.Ledger.Transactions;
using Testbed.Ledger.Wallets;

namespace Testbed.Ledger.CrashWriter;

/// <summary>The network the crash writer and the crash test share: a few bits of work so blocks come fast.</summary>
public static class CrashNetwork
{
    public static NetworkConfig Config { get; } = new()
    {
        Name = "crash-test",
        InitialDifficultyBits = 2,
        MinDifficultyBits = 1,
        MaxDifficultyBits = 4,
        TargetBlockIntervalMs = 50,
        RetargetWindowBlocks = 20,
        MaxRetargetStepBits = 1,
    };
}

/// <summary>
/// Writes blocks into DIR/main until killed: mostly blocks with transactions on the tip, and every few blocks a two-block
/// rival branch (mined in DIR/aux) that makes the main store reorganise. Prints "ACK hash" once AddBlock has returned,
/// i.e. after the store committed the block.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 2)
        {
            await Console.Error.WriteLineAsync("usage: Testbed.Ledger.CrashWriter DIR SEED");
            return 2;
        }

        var dir = args[0];
        var random = new Random(int.Parse(args[1], CultureInfo.InvariantCulture));
        using var main = Blockchain.Open(Path.Combine(dir, "main"), CrashNetwork.Config, new ChainOptions { PeerName = "crash-main" });
        using var aux = Blockchain.Open(Path.Combine(dir, "aux"), CrashNetwork.Config, new ChainOptions { PeerName = "crash-aux" });
        using var wallet = Wallet.LoadOrCreate(Path.Combine(dir, "wallet"));
        using var rivalWallet = Wallet.CreateEphemeral();
        var miner = new BlockMiner(wallet, 1);
        var rival = new BlockMiner(rivalWallet, 1);
        Console.Out.WriteLine("READY " + main.Tip.Height.ToString(CultureInfo.InvariantCulture));
        Console.Out.Flush();
        for (var round = 0; ; round++)
        {
            Sync(main, aux);
            var nonce = main.NextNonce(wallet.Address);
            var txs = Enumerable.Range(0, random.Next(0, 3))
                .Select(i => SignedTransaction.Create(wallet, nonce + i, $$$"""[{"action":"vote_proposal","proposal":{"id":"P{{{nonce + i}}}","description":"crash test"}}]"""))
                .ToList();
            var mined = await miner.MineNextAsync(main, txs, CancellationToken.None);
            Acknowledge(main.AddMinedBlock(mined!));
            if (round % 4 == 3)
            {
                // aux is still on the old tip: two blocks there outweigh main's one, so main reorganises (depth 1).
                for (var i = 0; i < 2; i++)
                {
                    var block = await rival.MineNextAsync(aux, [], CancellationToken.None);
                    aux.AddMinedBlock(block!);
                    Acknowledge(main.AddBlock(block!.Block.Token));
                }
            }
        }
    }

    private static void Acknowledge(AddBlockResult result)
    {
        if (!result.Accepted)
        {
            throw new InvalidOperationException($"the writer's own block was refused: {result}");
        }

        Console.Out.WriteLine($"ACK {result.Hash} {result.Status}");
        Console.Out.Flush();
    }

    private static void Sync(Blockchain from, Blockchain to)
    {
        foreach (var hash in from.MainChain(1, int.MaxValue))
        {
            if (!to.Contains(hash))
            {
                var result = to.AddBlock(from.GetBlockToken(hash)!);
                if (!result.Accepted)
                {
                    throw new InvalidOperationException($"aux refused a main block: {result}");
                }
            }
        }
    }
}
