using FluentAssertions;
using Steller.Domain;
using Steller.Domain.Partners;

namespace Steller.Domain.Tests.Partners;

/// <summary>Given events, when a command, then events or an error: the partner's decisions read as specifications.</summary>
public abstract class PartnerSpec
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    protected static readonly PartnerOnboarded Onboarded = new("acme", "Acme Gifts", "ops@acme.test", null, Now.AddDays(-1));
    private Partner state = Partner.Empty;
    private Decision<IPartnerEvent>? decision;

    /// <summary>An onboarded partner "acme" plus the given events.</summary>
    public PartnerSpec Given(params IPartnerEvent[] events)
    {
        state = events.Aggregate(Partner.Evolve(Partner.Empty, Onboarded), Partner.Evolve);
        return this;
    }

    public PartnerSpec GivenNoPartner()
    {
        state = Partner.Empty;
        return this;
    }

    public PartnerSpec When(IPartnerCommand command)
    {
        decision = Partner.Decide(command, state);
        if (!decision.Failed) state = decision.Events.Aggregate(state, Partner.Evolve);
        return this;
    }

    public PartnerSpec Then(params IPartnerEvent[] expected)
    {
        decision!.Error.Should().BeNull();
        decision.Events.Should().BeEquivalentTo(expected, o => o.RespectingRuntimeTypes().WithStrictOrdering());
        return this;
    }

    public PartnerSpec ThenNothingNew()
    {
        decision!.Error.Should().BeNull();
        decision.IsNoOp.Should().BeTrue("a repeat is a no-op");
        return this;
    }

    public PartnerSpec ThenFails(DomainError error)
    {
        decision!.Error.Should().Be(error);
        return this;
    }

    public PartnerSpec AndState(Action<Partner> check)
    {
        check(state);
        return this;
    }
}
