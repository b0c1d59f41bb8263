using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Application.Vendors;
using Steller.Domain;
using Steller.Domain.Vendors;

namespace Steller.Application.VendorAccounts;

/// <summary>The field rules and refusals the vendor account use cases share.</summary>
public static class VendorAccountRules
{
    /// <summary>The vendors Steller buys from with a prepaid account: the two vendor protocols.</summary>
    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal) { VendorKinds.GiftCard, VendorKinds.TopUp };

    public static readonly DomainError NotFound = new("vendor_not_found",
        $"No such vendor: Steller keeps prepaid accounts at {string.Join(" and ", Known.Order(StringComparer.Ordinal))}.");

    public const string ReferenceRule = "required: 1–100 characters of letters, digits, '_', '-', '.', ':'";

    /// <summary>The outcome for a vendor Steller has no account at: nothing was written.</summary>
    public static CommandOutcome<VendorAccount> Unknown() => new(VendorAccount.Empty, -1, [], NotFound, LogPosition.Start);

    /// <summary>Currency, reference (the idempotency key, like a transfer id) and a positive amount.</summary>
    public static FieldErrors Movement(this FieldErrors errors, string? currency, string? reference, long? amount) => errors
        .Required(currency, "currency", Currency.IsKnown, Currency.UnknownMessage(currency))
        .Required(reference, "reference", Wallets.WalletRules.IsTransferId, ReferenceRule)
        .Required(amount, "amount", a => a > 0, Wallets.WalletRules.PositiveAmountRule);
}
