using MediatR;
using Steller.Application.Commands;
using Steller.Application.Pipeline;
using Steller.Domain;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.ViewingWallet;

/// <summary>One wallet's live balance, from its stream (not a read model).</summary>
public sealed record GetWalletRequest(string PartnerId, string Currency) : IRequest<WalletLookup>;

/// <summary>The wallet, or why there is none: partner_not_found or wallet_not_found.</summary>
public sealed record WalletLookup(WalletView? Wallet, DomainError? Error) : IRefusable;

public sealed class GetWalletHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<GetWalletRequest, WalletLookup>
{
    public async Task<WalletLookup> Handle(GetWalletRequest request, CancellationToken ct)
    {
        if (Partner.IsValidId(request.PartnerId) && Currency.TryParse(request.Currency, out _))
        {
            var (wallet, revision) = await wallets.Load(Wallet.StreamName(request.PartnerId, request.Currency), ct);
            if (wallet.IsOpen) return new WalletLookup(WalletView.Of(wallet, revision), null);
        }
        return new WalletLookup(null, await partners.Exists(request.PartnerId, ct)
            ? WalletErrors.NotOpen
            : WalletCommandsExtensions.PartnerNotFoundError(request.PartnerId));
    }
}
