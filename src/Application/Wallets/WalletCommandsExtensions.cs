using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Partners;
using Steller.Domain;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets;

/// <summary>
/// Wallet commands by partner and currency, refused with partner_not_found when the partner was never onboarded. A wallet
/// opens only for an onboarded partner, so the partner's stream is read only when the wallet turns out to be missing.
/// </summary>
public static class WalletCommandsExtensions
{
    public static async Task<CommandOutcome<Wallet>> ExecuteOn(this AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
        AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, string partnerId, string currency, IWalletCommand command,
        EventMetadata metadata, long? ifMatch, CancellationToken ct)
    {
        var outcome = await wallets.Execute(Wallet.StreamName(partnerId, currency), command, metadata, ifMatch, ct: ct);
        if (outcome.Error is null || outcome.State.IsOpen) return outcome;
        return await partners.Exists(partnerId, ct) ? outcome : PartnerNotFound(partnerId);
    }

    /// <summary>
    /// Gives transfer <paramref name="transferId"/> back to the sending wallet because its receiving half was refused
    /// (<paramref name="refusal"/>): value never stays in transit. Idempotent by transfer id.
    /// </summary>
    public static Task<CommandOutcome<Wallet>> ReturnRefusedTransfer(this AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
        string fromPartnerId, string currency, string transferId, DomainError refusal, EventMetadata metadata, CancellationToken ct) =>
        wallets.Execute(Wallet.StreamName(fromPartnerId, currency),
            new ReturnTransfer(transferId, $"the receiving wallet refused it: {refusal.Code}"), metadata, ct: ct);

    public static async Task<bool> Exists(this AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, string? partnerId,
        CancellationToken ct) => (await partners.LoadPartner(partnerId, ct)).State.Exists;

    /// <summary>A refusal decided before any wallet command ran: no state, nothing appended.</summary>
    public static CommandOutcome<Wallet> Refused(DomainError error) => new(Wallet.Empty, -1, [], error, default);

    public static DomainError PartnerNotFoundError(string? partnerId) =>
        new(PartnerErrors.NotFound.Code, $"No partner '{partnerId}': onboard it first (POST /admin/partners).");

    public static CommandOutcome<Wallet> PartnerNotFound(string? partnerId) => Refused(PartnerNotFoundError(partnerId));
}
