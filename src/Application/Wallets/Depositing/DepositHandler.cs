using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.Depositing;

/// <summary>
/// Records money received from outside (a bank transfer reference); idempotent by <paramref name="TransferId"/>,
/// the Idempotency-Key header.
/// </summary>
public sealed record DepositRequest(string PartnerId, string Currency, string? TransferId, long? Amount, string? Reference,
    EventMetadata Metadata, long? IfMatch = null) : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.MoneyMovement(PartnerId, Currency, TransferId, Amount, Reference);
}

public sealed class DepositHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<DepositRequest, CommandOutcome<Wallet>>
{
    public Task<CommandOutcome<Wallet>> Handle(DepositRequest request, CancellationToken ct)
    {
        var command = new Deposit(request.TransferId!, request.Amount!.Value, request.Reference!);
        return wallets.ExecuteOn(partners, request.PartnerId, request.Currency, command, request.Metadata, request.IfMatch, ct);
    }
}
