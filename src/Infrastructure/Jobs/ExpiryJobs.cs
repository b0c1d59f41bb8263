using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.Commands;
using Steller.Application.Time;
using Steller.Domain.Inventory;
using Steller.Domain.Wallets;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// The two expiries Steller runs: what each reads and what it sends (see <see cref="OpenItemExpiry{TState,TCommand,TEvent}"/>).
/// </summary>
public static class ExpiryShapes
{
    /// <summary>Wallet holds past their expiry, from read.wallet_open_holds: released with reason "expired".</summary>
    public static readonly ExpiryShape<IWalletCommand> Holds = new("wallet_open_holds", "transfer_id", "system:hold-expiry", "hold(s)",
        (stream, transferId) => Wallet.TryParseStreamName(stream, out var partner, out var currency)
            ? (Wallet.StreamName(partner, currency), new ReleaseHold(transferId, "expired")) : null);

    /// <summary>Stock reservations past their expiry, from read.stock_open_reservations: released with reason "expired".</summary>
    public static readonly ExpiryShape<IStockCommand> Reservations = new("stock_open_reservations", "reservation_id",
        "system:reservation-expiry",
        "stock reservation(s)", (stream, reservationId) => Stock.TryParseStreamName(stream, out var sku, out var location)
            ? (Stock.StreamName(sku, location), new ReleaseReservation(reservationId, "expired")) : null);
}

/// <summary>Releases wallet holds whose expiry has passed (<see cref="ExpiryShapes.Holds"/>).</summary>
public sealed class HoldExpiry(NpgsqlDataSource db, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets, IClock clock,
    ILogger<HoldExpiry> logger) : OpenItemExpiry<Wallet, IWalletCommand, IWalletEvent>(db, wallets, clock, logger, ExpiryShapes.Holds);

/// <summary>Releases stock reservations whose expiry has passed (<see cref="ExpiryShapes.Reservations"/>).</summary>
public sealed class ReservationExpiry(NpgsqlDataSource db, AggregateCommands<Stock, IStockCommand, IStockEvent> stock, IClock clock,
    ILogger<ReservationExpiry> logger)
        : OpenItemExpiry<Stock, IStockCommand, IStockEvent>(db, stock, clock, logger, ExpiryShapes.Reservations);
