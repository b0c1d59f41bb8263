using Steller.Application.Inventory.ViewingStock;

namespace Steller.Application.Inventory.TransferringStock;

/// <summary>A move as the admin API shows it: both stock items right after it.</summary>
public sealed record StockTransferView(string TransferId, long Quantity, StockView From, StockView To);
