namespace Steller.Domain.Inventory;

/// <summary>What can be asked of one stock item. Time arrives on the command; the domain reads no clock.</summary>
public interface IStockCommand;

/// <summary><paramref name="Vouchers"/>: sealed codes, one per unit, for products with codes (sealed before they get here).</summary>
public sealed record ReceiveStock(string ReceiptId, long Quantity, long UnitCost, string Currency,
    IReadOnlyList<SealedVoucher>? Vouchers = null) : IStockCommand;
/// <summary>First half of a move, decided on the sending location (<paramref name="FromLocation"/> is this stock's own location).</summary>
public sealed record TransferStockOut(string TransferId, string FromLocation, string ToLocation, long Quantity) : IStockCommand;
/// <summary>Second half of a move, decided on the receiving location from the first half's event.</summary>
public sealed record TransferStockIn(string FromLocation, StockTransferredOut Out) : IStockCommand;
public sealed record AdjustStock(string AdjustmentId, long Quantity, string Reason) : IStockCommand;
/// <summary>
/// Null <paramref name="ExpiresAt"/> means the default: <see cref="Stock.DefaultReservationLifetime"/> after <paramref name="Now"/>.
/// </summary>
public sealed record ReserveStock(string ReservationId, long Quantity, string OrderId, DateTimeOffset? ExpiresAt, DateTimeOffset Now)
    : IStockCommand;
public sealed record CommitReservation(string ReservationId) : IStockCommand;
public sealed record ReleaseReservation(string ReservationId, string Reason) : IStockCommand;
public sealed record SetLowThreshold(long Threshold) : IStockCommand;
