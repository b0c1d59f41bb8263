using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.ViewingStock;

/// <summary>
/// A stock level; <see cref="HasVoucherCodes"/>: null until the first units arrive, then whether every unit carries a code.
/// </summary>
public sealed record StockView(
    string Sku, string Location, long OnHand, long Reserved, long Available, long LowThreshold, bool Low, string? Currency,
    bool? HasVoucherCodes, long Revision)
{
    public static StockView Of(string sku, string location, Stock s, long revision) =>
        new(sku, location, s.OnHand, s.Reserved, s.Available, s.LowThreshold, s.IsLow, s.Currency, s.HasCodes, revision);
}
