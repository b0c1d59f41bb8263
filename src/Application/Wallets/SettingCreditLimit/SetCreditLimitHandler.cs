using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.SettingCreditLimit;

/// <summary>Lets the wallet's available funds go down to minus this limit.</summary>
public sealed record SetCreditLimitRequest(string PartnerId, string Currency, long? Limit, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) =>
        errors.Wallet(PartnerId, Currency).Required(Limit, "limit", l => l >= 0, "0 or more minor units");
}

public sealed class SetCreditLimitHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<SetCreditLimitRequest, CommandOutcome<Wallet>>
{
    public Task<CommandOutcome<Wallet>> Handle(SetCreditLimitRequest request, CancellationToken ct) =>
        wallets.ExecuteOn(partners, request.PartnerId, request.Currency, new SetCreditLimit(request.Limit!.Value), request.Metadata,
            request.IfMatch, ct);
}
