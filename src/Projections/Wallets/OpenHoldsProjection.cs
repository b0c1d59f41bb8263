using Steller.Projections.Engine;

namespace Steller.Projections.Wallets;

/// <summary>read.wallet_open_holds: holds not yet captured or released, with their expiry (read by the hold-expiry job).</summary>
public sealed class OpenHoldsProjection() : OpenItemsProjection(new OpenItemsShape(
    Name: "wallet_open_holds",
    Table: "wallet_open_holds",
    OpenedType: "wallet.hold-placed.v1",
    ClosedTypes: ["wallet.hold-captured.v1", "wallet.hold-released.v1"],
    IdProperty: "transferId", IdColumn: "transfer_id",
    QuantityProperty: "amount", QuantityColumn: "amount"));
