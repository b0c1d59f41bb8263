using MediatR;
using Steller.Domain;
using Steller.Domain.Partners;

namespace Steller.Projections.Wallets.ViewingBalanceAsOf;

/// <summary>A wallet as it was at <see cref="AsOf"/>, folded from its events; <see cref="Revision"/> is the last event folded.</summary>
public sealed record WalletAsOfView(string PartnerId, string Currency, long Posted, long Pending, long Available, long CreditLimit,
    bool Frozen, long Revision, DateTimeOffset AsOf, long? LowBalanceThreshold = null);

/// <summary>
/// One wallet's balance at an instant, answered from the event log (<see cref="LedgerReplay.FoldWallet"/>: the very fold of
/// `steller ledger balances --as-of`, over the wallet's own stream). Null when the wallet was not open by then.
/// </summary>
public sealed record GetBalanceAsOfRequest(string PartnerId, string Currency, DateTimeOffset AsOf) : IRequest<WalletAsOfView?>;

public sealed class GetBalanceAsOfHandler(LedgerReplay replay) : IRequestHandler<GetBalanceAsOfRequest, WalletAsOfView?>
{
    public async Task<WalletAsOfView?> Handle(GetBalanceAsOfRequest request, CancellationToken ct)
    {
        if (!Partner.IsValidId(request.PartnerId) || !Currency.TryParse(request.Currency, out _)) return null;
        var (wallet, _) = await replay.FoldWallet(request.PartnerId, request.Currency, request.AsOf, ct);
        return wallet is null ? null
            : new WalletAsOfView(wallet.PartnerId, wallet.Currency, wallet.State.Posted, wallet.State.Pending, wallet.State.Available,
                wallet.State.CreditLimit, wallet.State.Frozen, wallet.Revision, request.AsOf, wallet.State.LowBalanceThreshold);
    }
}
