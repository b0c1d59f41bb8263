using Steller.Application.Serialization;
using Steller.Domain.Wallets;
using Steller.Projections.Engine;

namespace Steller.Projections.Wallets;

/// <summary>read.wallet_open_holds: holds not yet captured or released, with their expiry (read by the hold-expiry job).</summary>
public sealed class OpenHoldsProjection() : OpenItemsProjection(new OpenItemsShape(
    Name: "wallet_open_holds",
    Table: "wallet_open_holds",
    EventTypes: EventTypeSet.Union(EventNames.Of<HoldPlaced>(), EventNames.Of<HoldCaptured>(), EventNames.Of<HoldReleased>()),
    Read: e => e switch
    {
        HoldPlaced h => new ItemOpened(h.TransferId, h.Amount, h.ExpiresAt, h.OrderId),
        HoldCaptured c => new ItemClosed(c.TransferId),
        HoldReleased r => new ItemClosed(r.TransferId),
        _ => null,
    },
    IdColumn: "transfer_id", QuantityColumn: "amount",
    Doc: new ReadViewDoc("wallet_open_holds", "Holds on partner wallets not yet captured or released, with their expiry (the hold-expiry loop reads it).",
        ("stream_id", "The wallet's event stream: wallet-{partner}-{ccy}."),
        ("transfer_id", "The hold's id."),
        ("amount", "Amount held, minor units of the wallet's currency."),
        ("expires_at", "When the hold is given back by itself (UTC); null: no expiry."),
        ("order_id", "The order it was placed for; null for a hold placed by hand."),
        ("placed_at", "When it was placed (UTC)."))));
