using System.Text.RegularExpressions;
using MediatR;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.PlacingOrder;

/// <summary>One requested line as the partner sent it; <see cref="PlaceOrderRequest.Validate"/> checks every field.</summary>
public sealed record PlaceOrderLine(string? Sku, int? Quantity, long? FaceValue);

/// <summary>
/// A partner places an order under its own <paramref name="ClientReference"/> (the idempotency key). The handler
/// prices it and takes it through placement; the shapes are checked before (400 naming every bad field).
/// </summary>
public sealed partial record PlaceOrderRequest(string PartnerId, string? ClientReference, IReadOnlyList<PlaceOrderLine?>? Lines,
    Recipient? Recipient, EventMetadata Metadata) : IRequest<PlaceOrderResult>, IValidated
{
    public const int MaxLines = 50, MaxQuantity = 100;
    private const string ReferenceRule = "required: 1–100 characters of letters, digits, '_', '-', '.', ':'";

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")] private static partial Regex E164();
    [GeneratedRegex(@"^[^@\s]{1,64}@[^@\s]{1,255}$")] private static partial Regex Email();

    public void Validate(FieldErrors errors)
    {
        errors.Required(ClientReference, "clientReference", IsValidReference, ReferenceRule)
            .Required(Lines, "lines", l => l.Count is > 0 and <= MaxLines, $"1–{MaxLines} lines");
        for (var i = 0; i < (Lines?.Count ?? 0) && i < MaxLines; i++) ValidateLine(errors, Lines![i], $"lines[{i}]");
        if (Recipient is { } recipient)
            errors.Check(recipient.Phone is null || E164().IsMatch(recipient.Phone), "recipient.phone",
                    "E.164: '+', country code and number, 8–16 digits in all (e.g. +4915112345678)")
                .Check(recipient.Email is null || Email().IsMatch(recipient.Email), "recipient.email", "an e-mail address");
    }

    private static void ValidateLine(FieldErrors errors, PlaceOrderLine? line, string field)
    {
        errors.Check(line is not null, field, "a line object");
        if (line is null) return;
        errors.Required(line.Sku, $"{field}.sku", Stock.IsValidId, "required: 1–64 of a-z, 0-9 and '-'")
            .Required(line.Quantity, $"{field}.quantity", q => q is > 0 and <= MaxQuantity, $"1–{MaxQuantity}")
            .Required(line.FaceValue, $"{field}.faceValue", f => f is > 0, "positive minor units of the product's currency");
    }

    private static bool IsValidReference(string reference) =>
        reference is { Length: > 0 and <= 100 } && reference.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');

    /// <summary>The lines once validated: every field present.</summary>
    internal IReadOnlyList<(string Sku, int Quantity, long FaceValue)> ValidLines =>
        Lines!.Select(l => (l!.Sku!, l.Quantity!.Value, l.FaceValue!.Value)).ToList();
}

/// <summary>
/// What placement ended in: the order (any status, <see cref="Order"/>), or a refusal that wrote nothing
/// (<see cref="Refusal"/>: a body under a used reference, a top-up without a phone, naming <see cref="RefusedField"/>
/// when a field is to blame; a busy vendor, with <see cref="RetryAfter"/>), and the order's stream revision.
/// </summary>
public sealed record PlaceOrderResult(string OrderId, Order? Order, long Revision, DomainError? Refusal, string? RefusedField = null,
    TimeSpan? RetryAfter = null)
    : IRefusable
{
    /// <summary>The refusal, or the rejection the order was recorded with: what the use case's metrics and log name.</summary>
    public DomainError? Error => Refusal ?? (Order?.Rejection is { } r ? new DomainError(r.Code, r.Message) : null);
}
