using Steller.Domain.Wallets;

namespace Steller.Domain.Tests.Wallets;

/// <summary>Given events, when a command, then events or an error: the wallet's decisions read as specifications (given an open wallet "p-1" in EUR).</summary>
public abstract class WalletSpec() : AggregateSpec<WalletSpec, Wallet, IWalletCommand, IWalletEvent>(Wallet.Empty, Wallet.Evolve, Wallet.Decide)
{
    protected override IEnumerable<IWalletEvent> Background => [new WalletOpened("p-1", "EUR")];

    public WalletSpec GivenNoWallet() => GivenNothing();
}
