using MediatR;
using Steller.Projections.Wallets.Balances;

namespace Steller.Projections.Wallets.ListingWallets;

public sealed record WalletList(string PartnerId, IReadOnlyList<WalletBalance> Wallets);

/// <summary>
/// A partner's wallets from read.wallet_balances. The caller decides whose: the admin API after checking the partner exists, the
/// partner API /v1 with the id from the verified signature (a partner only ever sees its own wallets).
/// </summary>
public sealed record ListWalletsRequest(string PartnerId) : IRequest<WalletList>;

public sealed class ListWalletsHandler(WalletBalancesQuery wallets) : IRequestHandler<ListWalletsRequest, WalletList>
{
    public async Task<WalletList> Handle(ListWalletsRequest request, CancellationToken ct) =>
        new(request.PartnerId, await wallets.ForPartner(request.PartnerId, ct));
}
