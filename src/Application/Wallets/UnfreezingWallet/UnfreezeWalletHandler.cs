using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.UnfreezingWallet;

/// <summary>Allows debits again.</summary>
public sealed record UnfreezeWalletRequest(string PartnerId, string Currency, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Wallet(PartnerId, Currency);
}

public sealed class UnfreezeWalletHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<UnfreezeWalletRequest, CommandOutcome<Wallet>>
{
    public Task<CommandOutcome<Wallet>> Handle(UnfreezeWalletRequest request, CancellationToken ct) =>
        wallets.ExecuteOn(partners, request.PartnerId, request.Currency, new UnfreezeWallet(), request.Metadata, request.IfMatch, ct);
}
