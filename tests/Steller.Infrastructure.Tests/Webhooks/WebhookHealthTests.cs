using FluentAssertions;
using NUnit.Framework;
using Steller.Infrastructure.Webhooks;

namespace Steller.Infrastructure.Tests.Webhooks;

/// <summary>
/// The endpoint health a batch of recorded outcomes writes is what recording them one by one would have written: failing since
/// the first failure after the last success, cleared by a success, kept by further failures.
/// </summary>
public sealed class WebhookHealthTests
{
    private static readonly DateTime T0 = new(2026, 12, 2, 6, 0, 0, DateTimeKind.Utc);

    private static WebhookOutcome Outcome(string endpoint, int second, bool ok) =>
        new(endpoint, new WebhookAttemptRow("msg", T0.AddSeconds(second), ok ? 204 : 503, null, 1, null), ok, ok ? "delivered" : "pending", 1, null);

    [Test]
    public void failures_only_keep_an_earlier_failing_since_or_start_it_at_the_first_failure_of_the_batch()
    {
        WebhookHealth.Of([Outcome("a", 1, false), Outcome("a", 2, false)]).Should().Equal(new WebhookHealth("a", false, T0.AddSeconds(1)));
    }

    [Test]
    public void a_success_clears_it_and_a_later_failure_starts_it_again_at_that_failure()
    {
        WebhookHealth.Of([Outcome("a", 1, false), Outcome("a", 2, true)]).Should().Equal(new WebhookHealth("a", true, null));
        WebhookHealth.Of([Outcome("a", 1, false), Outcome("a", 2, true), Outcome("a", 3, false), Outcome("a", 4, false)])
            .Should().Equal(new WebhookHealth("a", true, T0.AddSeconds(3)));
    }

    [Test]
    public void each_endpoint_of_a_batch_gets_its_own_health()
    {
        WebhookHealth.Of([Outcome("a", 1, true), Outcome("b", 2, false), Outcome("a", 3, true)])
            .Should().BeEquivalentTo([new WebhookHealth("a", true, null), new WebhookHealth("b", false, T0.AddSeconds(2))]);
    }
}
