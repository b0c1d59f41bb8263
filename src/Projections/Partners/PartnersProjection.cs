using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Partners;
using Steller.Projections.Engine;

namespace Steller.Projections.Partners;

/// <summary>
/// read.partners: one row per partner (id, name, parent, status, onboarded at, activated at) so analysts can join names
/// onto every report and operators can search partners. Never the contact e-mail, keys or allowlist: those stay in the
/// partner's stream, read through the admin API.
/// </summary>
public sealed class PartnersProjection : IProjection
{
    public const string ProjectionName = "partners";
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = EventTypeSet.Union(EventNames.Of<PartnerOnboarded>(),
        EventNames.Of<PartnerSuspended>(), EventNames.Of<PartnerReactivated>(), EventNames.Of<PartnerActivated>());
    public IReadOnlyList<string> Tables { get; } = ["partners"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.partners (
            partner_id        text        primary key,
            name              text        not null,
            parent_partner_id text,                   -- the agency of a sub-partner
            status            text        not null,   -- Active | Suspended
            onboarded_at      timestamptz not null,
            activated_at      timestamptz,            -- when its first order completed (partner.activated.v1)
            first_order_id    text,
            last_revision     bigint      not null,
            updated_at        timestamptz not null
        );
        create index on {schema}.partners (onboarded_at);
        create index on {schema}.partners (activated_at) where activated_at is not null;
        create index on {schema}.partners (lower(name) text_pattern_ops);
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("partners", "One row per partner (reseller), to join names onto reports. Never contact e-mails, keys or allowlists.",
            ("partner_id", "The partner's id."),
            ("name", "The partner's name."),
            ("parent_partner_id", "The agency a sub-partner belongs to; null for a top-level partner."),
            ("status", "Active or Suspended."),
            ("onboarded_at", "When the partner was onboarded (UTC)."),
            ("activated_at", "When its first order completed (UTC); null until then."),
            ("first_order_id", "Its first completed order; null until then."),
            ("last_revision", "Revision of the partner's event stream last applied."),
            ("updated_at", "Recorded time (UTC) of the last change applied.")),
    ];

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        foreach (var e in events)
        {
            if (!e.StreamId.StartsWith(Partner.StreamPrefix, StringComparison.Ordinal)) continue;
            var partnerId = e.StreamId[Partner.StreamPrefix.Length..];
            var at = e.Metadata.RecordedAt;
            var revision = e.Revision.Value;
            switch (registry.Deserialize(e.Type, e.Data.Span))
            {
                case PartnerOnboarded o:
                    await context.Execute("""
                        insert into {schema}.partners (partner_id, name, parent_partner_id, status, onboarded_at, last_revision, updated_at)
                        values (@partnerId, @name, @parent, 'Active', @onboardedAt, @revision, @at)
                        on conflict (partner_id) do nothing
                        """, new { partnerId, name = o.Name, parent = o.ParentPartnerId, onboardedAt = o.OnboardedAt, revision, at });
                    break;
                case PartnerSuspended:
                    await SetStatus(context, partnerId, "Suspended", revision, at);
                    break;
                case PartnerReactivated:
                    await SetStatus(context, partnerId, "Active", revision, at);
                    break;
                case PartnerActivated a:
                    await context.Execute("""
                        update {schema}.partners set activated_at = coalesce(activated_at, @activatedAt),
                               first_order_id = coalesce(first_order_id, @orderId), last_revision = @revision, updated_at = @at
                         where partner_id = @partnerId
                        """, new { partnerId, activatedAt = a.ActivatedAt, orderId = a.FirstOrderId, revision, at });
                    break;
            }
        }
    }

    private static Task SetStatus(ProjectionContext context, string partnerId, string status, long revision, DateTimeOffset at) =>
        context.Execute("""
            update {schema}.partners set status = @status, last_revision = @revision, updated_at = @at where partner_id = @partnerId
            """, new { partnerId, status, revision, at });
}
