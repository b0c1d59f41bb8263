using Steller.Application.Wallets.ViewingWallet;
using Steller.Domain.Wallets;

namespace Steller.Api.Wallets;

public sealed record HoldView(
    string TransferId, long Amount, string Status, long Captured, long Released, DateTimeOffset? ExpiresAt, string? OrderId,
        WalletView Wallet)
{
    public static HoldView Of(Hold h, Wallet w, long revision) => new(h.TransferId, h.Amount, h.Status.ToString().ToLowerInvariant(),
        h.Captured, ReleasedOf(h), h.ExpiresAt, h.OrderId, WalletView.Of(w, revision));

    private static long ReleasedOf(Hold h) => h.Status switch
    {
        HoldStatus.Released => h.Amount,
        HoldStatus.Captured => h.Amount - h.Captured,
        _ => 0,
    };
}

public sealed record TransferView(string TransferId, string Kind, long Amount, WalletView Wallet);
