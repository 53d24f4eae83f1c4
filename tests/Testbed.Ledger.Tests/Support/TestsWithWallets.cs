namespace Testbed.Ledger.Tests.Support;

/// <summary>
/// The named wallets a ledger test class signs with, declared once here instead of as fields in each class: fresh
/// ephemeral keys for each test, since xUnit makes a new instance of the class for every test it runs.
/// </summary>
public abstract class TestsWithWallets
{
    /// <summary>Sends transactions.</summary>
    protected Wallet Alice { get; } = Wallet.CreateEphemeral();

    /// <summary>Sends transactions beside Alice.</summary>
    protected Wallet Bob { get; } = Wallet.CreateEphemeral();

    /// <summary>Mines the test's own chain (chain a where there are two).</summary>
    protected Wallet Miner { get; } = Wallet.CreateEphemeral();

    /// <summary>Mines the competing blocks (chain b, the other branch).</summary>
    protected Wallet Rival { get; } = Wallet.CreateEphemeral();

    /// <summary>A key that no block or transaction of the test names: a forger's.</summary>
    protected Wallet Stranger { get; } = Wallet.CreateEphemeral();
}
