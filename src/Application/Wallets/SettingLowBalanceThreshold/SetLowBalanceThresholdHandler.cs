using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.SettingLowBalanceThreshold;

/// <summary>Sets the available balance below which a <c>wallet.low_balance</c> webhook fires (once per crossing); null removes it.</summary>
public sealed record SetLowBalanceThresholdRequest(string PartnerId, string Currency, long? Threshold, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Wallet(PartnerId, Currency);
}

public sealed class SetLowBalanceThresholdHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<SetLowBalanceThresholdRequest, CommandOutcome<Wallet>>
{
    public Task<CommandOutcome<Wallet>> Handle(SetLowBalanceThresholdRequest request, CancellationToken ct) =>
        wallets.ExecuteOn(partners, request.PartnerId, request.Currency, new SetLowBalanceThreshold(request.Threshold), request.Metadata,
            request.IfMatch, ct);
}
