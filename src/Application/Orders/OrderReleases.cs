using Steller.Application.EventStore;
using Steller.Application.Commands;
using Steller.Application.Inventory;
using Steller.Domain.Inventory;
using Steller.Domain.Wallets;
using Steller.Domain.Orders;

namespace Steller.Application.Orders;

/// <summary>
/// Gives back what an order took once it is decided that it will not be fulfilled (rejected, cancelled, failed):
/// the wallet hold (transfer id = order id) and every stock reservation of its stocked lines. Idempotent: a hold or
/// reservation already released (or never made) is left as it is. Runs inline right after the decision and again
/// from a process manager on the decision's event, so a crash in between never strands money or stock.
/// </summary>
public sealed class OrderReleases(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Stock, IStockCommand, IStockEvent> stock, IStockLocations locations)
{
    public async Task ReleaseAll(Order order, string reason, EventMetadata metadata, CancellationToken ct = default)
    {
        var placed = order.Placed!;
        if (placed.Currency is null) return; // rejected before pricing: nothing was ever taken
        foreach (var line in order.Lines.Where(l => l.Line.Pricing?.Source == LineSources.Stocked && l.Result is not { Delivered: > 0 }))
        {
            var reservationId = Order.RequestIdOf(placed.OrderId, line.Line.LineNo, order.Round);
            // Known from order.funds-held.v1; before that (a placement that died half way) it may sit at any location.
            var known = order.Funds?.Reservations.FirstOrDefault(r => r.LineNo == line.Line.LineNo)?.Location;
            foreach (var location in known is not null ? [known] : await locations.LocationsOf(line.Line.Sku, ct))
                await stock.Execute(Stock.StreamName(line.Line.Sku, location), new ReleaseReservation(reservationId, StockReason(reason)),
                    metadata, ct: ct);
        }
        await wallets.Execute(Wallet.StreamName(placed.PartnerId, placed.Currency), new ReleaseHold(Order.HoldTransferIdOf(order), reason),
            metadata, ct: ct);
    }

    /// <summary>
    /// Stock speaks of failed, cancelled or expired; an order rejection is a cancellation from the stock's point of view.
    /// </summary>
    private static string StockReason(string reason) => reason.StartsWith("failed", StringComparison.Ordinal) ? "failed" : "cancelled";
}
