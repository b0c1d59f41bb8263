using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.OpeningWallet;

public sealed record OpenWalletRequest(string PartnerId, string? Currency, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Wallet(PartnerId, Currency);
}

/// <summary>Opens an onboarded partner's wallet in a currency; opening it again is a no-op.</summary>
public sealed class OpenWalletHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<OpenWalletRequest, CommandOutcome<Wallet>>
{
    public async Task<CommandOutcome<Wallet>> Handle(OpenWalletRequest request, CancellationToken ct)
    {
        var (partnerId, currency) = (request.PartnerId, request.Currency!);
        if (!await partners.Exists(partnerId, ct)) return WalletCommandsExtensions.PartnerNotFound(partnerId);
        var command = new OpenWallet(partnerId, currency);
        return await wallets.Execute(Wallet.StreamName(partnerId, currency), command, request.Metadata, request.IfMatch, ct: ct);
    }
}
