using Steller.Application.Pipeline;
using Steller.Domain;
using Steller.Domain.Partners;

namespace Steller.Application.Wallets;

/// <summary>The field rules the wallet requests share: which wallet (partner id, currency), transfer ids and amounts.</summary>
public static class WalletRules
{
    public const string PartnerIdRule = "1–64 of a-z, 0-9 and '-', not starting with '-'";
    public const string CurrencyRule = "an ISO 4217 currency code in use, such as EUR";
    public const string TransferIdRule = "required: 1–100 characters of letters, digits, '_', '-', '.', ':'";
    public const string PositiveAmountRule = "a positive whole number of minor units";
    public static readonly string ReferenceRule = $"the external payment reference, at most {Text.ReferenceMax} characters";

    /// <summary>Deposits and withdrawals take their transfer id from this HTTP header; field errors name it.</summary>
    public const string IdempotencyKey = "Idempotency-Key";
    public const string IdempotencyKeyRule = "header required: the transfer id, 1–100 characters of letters, digits, '_', '-', '.', ':'";

    /// <summary>The wallet a request names: the partner id and currency (both required).</summary>
    public static FieldErrors Wallet(this FieldErrors errors, string? partnerId, string? currency) => errors
        .Required(partnerId, "partnerId", Partner.IsValidId, PartnerIdRule)
        .Required(currency, "currency", Currency.IsKnown, Currency.UnknownMessage(currency));

    public static FieldErrors TransferId(this FieldErrors errors, string? transferId, string field = "transferId",
        string message = TransferIdRule) => errors.Required(transferId, field, IsTransferId, message);

    /// <summary>Positive here; the bound (<see cref="Money.MaxMinorUnits"/>) is the domain's, refused as 422 amount_out_of_range.</summary>
    public static FieldErrors PositiveAmount(this FieldErrors errors, long? amount, string field = "amount") =>
        errors.Required(amount, field, a => a > 0, PositiveAmountRule);

    /// <summary>A deposit or withdrawal: the wallet, the Idempotency-Key as transfer id, a positive amount, the external reference.</summary>
    public static FieldErrors MoneyMovement(this FieldErrors errors, string? partnerId, string? currency, string? transferId, long? amount,
        string? reference) => errors.Wallet(partnerId, currency)
        .TransferId(transferId, IdempotencyKey, IdempotencyKeyRule)
        .PositiveAmount(amount)
        .Required(reference, "reference", r => !string.IsNullOrWhiteSpace(r) && r.Length <= Text.ReferenceMax, ReferenceRule);

    public static bool IsTransferId(string? id) =>
        id is { Length: > 0 and <= 100 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');
}
