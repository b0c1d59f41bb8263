using Steller.Application.Time;
using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.PlacingHold;

/// <summary>The first phase of a two-phase transfer: the amount is pending until captured or released. Idempotent by transfer id.</summary>
public sealed record PlaceHoldRequest(string PartnerId, string Currency, string? TransferId, long? Amount, DateTimeOffset? ExpiresAt,
    string? OrderId, EventMetadata Metadata, long? IfMatch = null) : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Wallet(PartnerId, Currency).TransferId(TransferId).PositiveAmount(Amount);
}

public sealed class PlaceHoldHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IClock clock)
    : IRequestHandler<PlaceHoldRequest, CommandOutcome<Wallet>>
{
    public Task<CommandOutcome<Wallet>> Handle(PlaceHoldRequest request, CancellationToken ct)
    {
        var command = new PlaceHold(request.TransferId!, request.Amount!.Value, request.ExpiresAt, request.OrderId, clock.UtcNow);
        return wallets.ExecuteOn(partners, request.PartnerId, request.Currency, command, request.Metadata, request.IfMatch, ct);
    }
}
