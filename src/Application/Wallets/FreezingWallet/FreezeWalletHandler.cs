using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.FreezingWallet;

/// <summary>Refuses debits until the wallet is unfrozen; credits still arrive.</summary>
public sealed record FreezeWalletRequest(string PartnerId, string Currency, string? Reason, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) =>
        errors.Wallet(PartnerId, Currency).Required(Reason, "reason", r => !string.IsNullOrWhiteSpace(r), "say why");
}

public sealed class FreezeWalletHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<FreezeWalletRequest, CommandOutcome<Wallet>>
{
    public Task<CommandOutcome<Wallet>> Handle(FreezeWalletRequest request, CancellationToken ct) =>
        wallets.ExecuteOn(partners, request.PartnerId, request.Currency, new FreezeWallet(request.Reason!), request.Metadata,
            request.IfMatch, ct);
}
