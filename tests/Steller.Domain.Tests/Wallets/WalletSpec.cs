using FluentAssertions;
using Steller.Domain;
using Steller.Domain.Wallets;

namespace Steller.Domain.Tests.Wallets;

/// <summary>Given events, when a command, then events or an error: the wallet's decisions read as specifications.</summary>
public abstract class WalletSpec
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private Wallet state = Wallet.Empty;
    private Decision<IWalletEvent>? decision;

    public WalletSpec Given(params IWalletEvent[] events)
    {
        state = events.Aggregate(Wallet.Evolve(Wallet.Empty, new WalletOpened("p-1", "EUR")), Wallet.Evolve);
        return this;
    }

    public WalletSpec GivenNoWallet()
    {
        state = Wallet.Empty;
        return this;
    }

    public WalletSpec When(IWalletCommand command)
    {
        decision = Wallet.Decide(command, state);
        if (!decision.Failed) state = decision.Events.Aggregate(state, Wallet.Evolve);
        return this;
    }

    public WalletSpec Then(params IWalletEvent[] expected)
    {
        decision!.Error.Should().BeNull();
        decision.Events.Should().BeEquivalentTo(expected, o => o.RespectingRuntimeTypes().WithStrictOrdering());
        return this;
    }

    public WalletSpec ThenNothingNew()
    {
        decision!.Error.Should().BeNull();
        decision.IsNoOp.Should().BeTrue("a repeat is a no-op");
        return this;
    }

    public WalletSpec ThenFails(DomainError error)
    {
        decision!.Error.Should().Be(error);
        return this;
    }

    public WalletSpec AndState(Action<Wallet> check)
    {
        check(state);
        return this;
    }
}
