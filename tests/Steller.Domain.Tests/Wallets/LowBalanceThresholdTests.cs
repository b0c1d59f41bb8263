using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;

namespace Steller.Domain.Tests.Wallets;

public sealed class LowBalanceThresholdTests : WalletSpec
{
    [Test]
    public void a_threshold_is_set_once_and_setting_it_again_changes_nothing()
    {
        Given().When(new SetLowBalanceThreshold(50_00)).Then(new LowBalanceThresholdSet(50_00))
            .AndState(w => w.LowBalanceThreshold.Should().Be(50_00));
        Given(new LowBalanceThresholdSet(50_00)).When(new SetLowBalanceThreshold(50_00)).ThenNothingNew();
        Given(new LowBalanceThresholdSet(50_00)).When(new SetLowBalanceThreshold(null)).Then(new LowBalanceThresholdSet(null));
    }

    [Test]
    public void a_negative_threshold_is_refused() =>
        Given().When(new SetLowBalanceThreshold(-1)).ThenFails(WalletErrors.InvalidAmount);

    [Test]
    public void only_the_step_from_at_or_above_to_below_the_threshold_is_a_crossing()
    {
        var at = Wallet.Empty with { Posted = 100_00, LowBalanceThreshold = 50_00 };
        at.CrossesBelowThreshold(at with { Posted = 49_99 }).Should().BeTrue();
        at.CrossesBelowThreshold(at with { Posted = 50_00 }).Should().BeFalse("at the threshold is not below it");
        (at with { Posted = 40_00 }).CrossesBelowThreshold(at with { Posted = 30_00 }).Should().BeFalse("already below: no second message");
        at.CrossesBelowThreshold(at with { Posted = 10_00, LowBalanceThreshold = null }).Should().BeFalse("no threshold");
    }
}
