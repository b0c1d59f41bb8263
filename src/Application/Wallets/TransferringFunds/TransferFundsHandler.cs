using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Partners;
using Steller.Application.Pipeline;
using Steller.Domain;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;
using static Steller.Application.Wallets.WalletCommandsExtensions;

namespace Steller.Application.Wallets.TransferringFunds;

/// <summary>
/// Moves funds from an agency's wallet to the same-currency wallet of one of its sub-partners. Idempotent by transfer id;
/// <paramref name="IfMatch"/> applies to the source wallet.
/// </summary>
public sealed record TransferFundsRequest(string PartnerId, string Currency, string? TransferId, string? ToPartnerId, long? Amount,
    EventMetadata Metadata, long? IfMatch = null) : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Wallet(PartnerId, Currency)
        .TransferId(TransferId)
        .Required(ToPartnerId, "toPartnerId", to => Partner.IsValidId(to) && to != PartnerId, "another partner's id")
        .PositiveAmount(Amount);
}

/// <summary>
/// Agency funding only: the receiving partner must be a sub-partner of the sender and hold a wallet in the currency. The
/// outgoing half is written first, then the incoming half right away; if this process dies in between,
/// <c>TransferCompletion</c> finishes it. The outcome is the source wallet's.
/// </summary>
public sealed class TransferFundsHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners) : IRequestHandler<TransferFundsRequest, CommandOutcome<Wallet>>
{
    public async Task<CommandOutcome<Wallet>> Handle(TransferFundsRequest request, CancellationToken ct)
    {
        var (from, to, currency) = (request.PartnerId, request.ToPartnerId!, request.Currency);
        var (transferId, amount) = (request.TransferId!, request.Amount!.Value);
        if ((await partners.LoadPartner(to, ct)).State.ParentPartnerId != from)
            return Refused(await partners.Exists(from, ct) ? NotASubPartner(from, to) : PartnerNotFoundError(from));
        var (destination, _) = await wallets.Load(Wallet.StreamName(to, currency), ct);
        if (!destination.IsOpen)
            return Refused(new DomainError(WalletErrors.NotOpen.Code, $"Partner {to} has no {currency} wallet."));
        // The incoming half must not be refused once the outgoing half is written: refuse up front what would take the
        // receiving wallet past the bound.
        if (!Money.StaysInRange(destination.Posted, amount)) return Refused(Money.AmountOutOfRange);

        var outgoing = new TransferOut(transferId, amount, to);
        var outcome = await wallets.Execute(Wallet.StreamName(from, currency), outgoing, request.Metadata, request.IfMatch, ct: ct);
        if (outcome.Error is not null) return outcome;
        var incoming = await wallets.Execute(Wallet.StreamName(to, currency), new TransferIn(transferId, amount, from), request.Metadata,
            ct: ct);
        if (incoming.Error is not { } error) return outcome;
        // Another transfer filled the receiver in between (the check above raced it): give the money back, refuse.
        var returned = await wallets.ReturnRefusedTransfer(from, currency, transferId, error, request.Metadata, ct);
        return returned.Error is { } stuck ? Refused(stuck) : Refused(error);
    }

    private static DomainError NotASubPartner(string from, string to) =>
        new("not_a_sub_partner", $"Partner {to} is not a sub-partner of {from}; wallet transfers go from an agency to its own partners.");
}
