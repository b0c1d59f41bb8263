using Steller.Application.Pipeline;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory;

/// <summary>The field rules the stock requests share: the stock item a route names and the command ids a body carries.</summary>
public static class StockFields
{
    public const string IdRule = "1–64 of a-z, 0-9 and '-', not starting with '-'";
    public const string CommandIdRule = "required: 1–100 characters of letters, digits, '_', '-', '.', ':'";
    public const string UnitsRule = "a positive whole number of units";

    /// <summary>The sku and location of the route: each 1–64 of a-z, 0-9 and '-'.</summary>
    public static FieldErrors Target(this FieldErrors errors, string sku, string location) => errors
        .Check(Stock.IsValidId(sku), "sku", IdRule)
        .Check(Stock.IsValidId(location), "location", IdRule);

    /// <summary>A command id (receiptId, reservationId, ...): "required" when missing, else <see cref="CommandIdRule"/>.</summary>
    public static FieldErrors CommandId(this FieldErrors errors, string? id, string field) =>
        errors.Required(id, field, IsCommandId, CommandIdRule);

    /// <summary>A positive number of units: "required" when missing.</summary>
    public static FieldErrors Units(this FieldErrors errors, long? quantity, string field = "quantity") =>
        errors.Required(quantity, field, q => q > 0, UnitsRule);

    public static bool IsCommandId(string? id) =>
        id is { Length: > 0 and <= 100 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');
}
