namespace Steller.Domain.Inventory;

/// <summary>What can be asked of one stock item. Time arrives on the command; the domain reads no clock.</summary>
public interface IStockCommand;

public sealed record ReceiveStock(string ReceiptId, long Quantity, long UnitCost, string Currency) : IStockCommand;
public sealed record AdjustStock(string AdjustmentId, long Quantity, string Reason) : IStockCommand;
/// <summary>Null <paramref name="ExpiresAt"/> means the default: <see cref="Stock.DefaultReservationLifetime"/> after <paramref name="Now"/>.</summary>
public sealed record ReserveStock(string ReservationId, long Quantity, string OrderId, DateTimeOffset? ExpiresAt, DateTimeOffset Now) : IStockCommand;
public sealed record CommitReservation(string ReservationId) : IStockCommand;
public sealed record ReleaseReservation(string ReservationId, string Reason) : IStockCommand;
public sealed record SetLowThreshold(long Threshold) : IStockCommand;
