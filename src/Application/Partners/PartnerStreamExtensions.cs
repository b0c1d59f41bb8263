using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Domain.Partners;

namespace Steller.Application.Partners;

/// <summary>Partner commands by partner id: an id that cannot name a partner is simply no partner (nothing is read or written).</summary>
public static class PartnerStreamExtensions
{
    public static Task<CommandOutcome<Partner>> ExecuteOn(this AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners,
        string partnerId,
        IPartnerCommand command, EventMetadata metadata, long? ifMatch = null, string? eventIdSeed = null,
                CancellationToken ct = default) =>
        Partner.IsValidId(partnerId)
            ? partners.Execute(Partner.StreamName(partnerId), command, metadata, ifMatch, eventIdSeed, ct)
            : Task.FromResult(new CommandOutcome<Partner>(Partner.Empty, -1, [], PartnerErrors.NotFound, default));

    /// <summary>The partner and its revision (-1: none); an invalid id loads as no partner.</summary>
    public static Task<(Partner State, long Revision)> LoadPartner(this AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners,
        string? partnerId, CancellationToken ct = default) =>
        Partner.IsValidId(partnerId) ? partners.Load(Partner.StreamName(partnerId!), ct) : Task.FromResult((Partner.Empty, -1L));
}
