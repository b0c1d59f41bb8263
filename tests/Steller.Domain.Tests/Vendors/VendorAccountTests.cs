using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;

namespace Steller.Domain.Tests.Vendors;

public abstract class VendorAccountSpec()
    : AggregateSpec<VendorAccountSpec, VendorAccount, IVendorAccountCommand, IVendorAccountEvent>(VendorAccount.Empty, VendorAccount.Evolve,
        VendorAccount.Decide);

public sealed class VendorAccountTests : VendorAccountSpec
{
    private const string GiftCardEur = "platform:vendor:giftcard:EUR";

    [Test]
    public void a_top_up_debits_the_vendor_account_and_credits_platform_funding() =>
        Given().When(new RecordVendorTopUp("giftcard", "bank-7", "EUR", 1_000_00))
            .Then(new VendorToppedUp("bank-7", "EUR", 1_000_00, GiftCardEur, "platform:funding:EUR"))
            .AndState(s => s.RecordedIn("EUR").Should().Be(1_000_00));

    [Test]
    public void the_same_top_up_again_is_a_no_op_and_another_body_under_its_reference_is_a_conflict()
    {
        var first = new VendorToppedUp("bank-7", "EUR", 1_000_00, GiftCardEur, "platform:funding:EUR");
        Given(first).When(new RecordVendorTopUp("giftcard", "bank-7", "EUR", 1_000_00)).ThenNothingNew();
        Given(first).When(new RecordVendorTopUp("giftcard", "bank-7", "EUR", 999_00)).ThenFails(VendorAccountErrors.IdempotencyConflict);
        Given(first).When(new RecordVendorTopUp("giftcard", "bank-7", "USD", 1_000_00)).ThenFails(VendorAccountErrors.IdempotencyConflict);
        Given(first).When(new RecordVendorRefund("giftcard", "bank-7", "EUR", 1_000_00, null, "reversal"))
            .ThenFails(VendorAccountErrors.IdempotencyConflict);
    }

    [Test]
    public void a_vendor_refund_is_its_own_transfer_from_revenue_into_the_vendor_account() =>
        Given(new VendorToppedUp("bank-7", "EUR", 1_000_00, GiftCardEur, "platform:funding:EUR"))
            .When(new RecordVendorRefund("giftcard", "rev-1", "EUR", 24_00, "order-1", "card never activated"))
            .Then(new VendorRefunded("rev-1", "EUR", 24_00, "order-1", "card never activated", GiftCardEur, "platform:revenue:EUR"));

    [Test]
    public void amounts_must_be_positive_currencies_known_and_totals_within_the_money_bound()
    {
        Given().When(new RecordVendorTopUp("giftcard", "r", "EUR", 0)).ThenFails(VendorAccountErrors.InvalidAmount);
        Given().When(new RecordVendorTopUp("giftcard", "r", "QQQ", 1)).ThenFails(VendorAccountErrors.UnknownCurrency);
        Given().When(new RecordVendorTopUp("Gift Card", "r", "EUR", 1)).ThenFails(VendorAccountErrors.InvalidVendor);
        Given(new VendorToppedUp("r0", "EUR", Money.MaxMinorUnits, GiftCardEur, "platform:funding:EUR"))
            .When(new RecordVendorTopUp("giftcard", "r1", "EUR", 1)).ThenFails(Money.AmountOutOfRange);
    }

    [Test]
    public void every_vendor_account_event_posts_one_balanced_movement_between_platform_accounts()
    {
        VendorAccount.Postings(new VendorToppedUp("r", "EUR", 5_00, GiftCardEur, "platform:funding:EUR"))
            .Should().Equal(new Posting(GiftCardEur, "platform:funding:EUR", 5_00));
        VendorAccount.Postings(new VendorRefunded("r", "EUR", 5_00, null, "x", GiftCardEur, "platform:revenue:EUR"))
            .Should().Equal(new Posting(GiftCardEur, "platform:revenue:EUR", 5_00));
    }

    [Test]
    public void the_stream_is_one_per_vendor_and_names_its_vendor()
    {
        VendorAccount.StreamName("topup").Should().Be("vendor-topup");
        VendorAccount.TryParseStreamName("vendor-topup", out var vendor).Should().BeTrue();
        vendor.Should().Be("topup");
        VendorAccount.TryParseStreamName("wallet-p-EUR", out _).Should().BeFalse();
    }
}
