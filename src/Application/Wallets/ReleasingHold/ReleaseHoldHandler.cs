using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.ReleasingHold;

/// <summary>Releases a hold: nothing is posted. Releasing twice is a no-op.</summary>
public sealed record ReleaseHoldRequest(string PartnerId, string Currency, string TransferId, string? Reason, EventMetadata Metadata,
    long? IfMatch = null) : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Wallet(PartnerId, Currency);
}

public sealed class ReleaseHoldHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<ReleaseHoldRequest, CommandOutcome<Wallet>>
{
    public Task<CommandOutcome<Wallet>> Handle(ReleaseHoldRequest request, CancellationToken ct)
    {
        var command = new ReleaseHold(request.TransferId, request.Reason ?? "released");
        return wallets.ExecuteOn(partners, request.PartnerId, request.Currency, command, request.Metadata, request.IfMatch, ct);
    }
}
