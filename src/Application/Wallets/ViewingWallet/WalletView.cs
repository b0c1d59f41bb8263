using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.ViewingWallet;

/// <summary>A wallet as the API shows it; <paramref name="Revision"/> is its stream revision (the ETag).</summary>
public sealed record WalletView(
    string PartnerId, string Currency, long Posted, long Pending, long Available, long CreditLimit, bool Frozen, long Revision,
    long? LowBalanceThreshold = null)
{
    public static WalletView Of(Wallet w, long revision) =>
        new(w.PartnerId!, w.Currency!, w.Posted, w.Pending, w.Available, w.CreditLimit, w.Frozen, revision, w.LowBalanceThreshold);
}
