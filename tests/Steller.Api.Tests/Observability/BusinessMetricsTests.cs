using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Tests.Orders;
using Steller.Client;

namespace Steller.Api.Tests.Observability;

/// <summary>/metrics speaks of the business (orders and vendor calls by outcome) and carries no QUIC diagnostics noise.</summary>
public sealed class BusinessMetricsTests() : OrderFixture("metrics")
{
    [Test, CancelAfter(90_000)]
    public async Task a_completed_order_is_counted_by_outcome_with_its_vendor_calls()
    {
        var before = await Scrape();
        using var partner = await Partner("metrics-buyer", 100_00);
        var placed = await partner.PlaceOrder("m-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        (await Terminal(partner, placed.OrderId)).Status.Should().Be("Completed");

        var after = await Scrape();
        Value(after, "steller_orders_total", "outcome=\"placed\"").Should().BeGreaterThan(Value(before, "steller_orders_total", "outcome=\"placed\""));
        Value(after, "steller_orders_total", "outcome=\"completed\"").Should().BeGreaterThan(Value(before, "steller_orders_total", "outcome=\"completed\""));
        Value(after, "steller_vendor_calls_total", "vendor=\"giftcard\",outcome=\"ok\"")
            .Should().BeGreaterThan(Value(before, "steller_vendor_calls_total", "vendor=\"giftcard\",outcome=\"ok\""));
        after.Should().Contain("steller_use_case_seconds_bucket{use_case=\"PlaceOrder\"", "every use case is timed by the pipeline");
    }

    [Test]
    public async Task no_quic_diagnostics_families_are_exported()
    {
        var text = await Scrape();
        text.Should().Contain("http_request_duration_seconds");
        Regex.Matches(text, @"^# TYPE (\S+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value)
            .Should().NotContain(name => name.Contains("quic", StringComparison.OrdinalIgnoreCase));
    }

    private async Task<string> Scrape() => await admin.GetStringAsync("/metrics");

    private static double Value(string text, string family, string labels)
    {
        var match = Regex.Match(text, $@"^{Regex.Escape(family)}\{{{Regex.Escape(labels)}\}} (\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}
