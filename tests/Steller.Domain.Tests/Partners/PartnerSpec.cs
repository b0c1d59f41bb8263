using Steller.Domain.Partners;

namespace Steller.Domain.Tests.Partners;

/// <summary>Given events, when a command, then events or an error: the partner's decisions read as specifications.</summary>
public abstract class PartnerSpec() : AggregateSpec<PartnerSpec, Partner, IPartnerCommand, IPartnerEvent>(Partner.Empty, Partner.Evolve, Partner.Decide)
{
    protected static readonly PartnerOnboarded Onboarded = new("acme", "Acme Gifts", "ops@acme.test", null, Now.AddDays(-1));

    /// <summary>Every <c>Given</c> starts from an onboarded partner "acme".</summary>
    protected override IEnumerable<IPartnerEvent> Background => [Onboarded];

    public PartnerSpec GivenNoPartner() => GivenNothing();
}
