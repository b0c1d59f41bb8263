using System.Text;
using Steller.Domain.Orders;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Serialization;
using Steller.Domain;

namespace Steller.Application.Tests;

[EventName("test.widget-named.v1")]
public sealed record WidgetNamedV1(string Name);

[EventName("test.widget-named.v2")]
public sealed record WidgetNamed(string FirstName, string LastName);

public sealed record NotAnEvent(int X);

public sealed class EventTypeRegistryTests
{
    private static EventTypeRegistry Registry() => new EventTypeRegistry().AddAssembly(typeof(EventTypeRegistryTests).Assembly);

    [Test]
    public void an_event_is_stored_under_its_declared_name_not_its_clr_name() =>
        Registry().NameOf(typeof(WidgetNamed)).Should().Be("test.widget-named.v2");

    [Test]
    public void an_event_round_trips_through_its_stored_name()
    {
        var registry = Registry();
        var data = registry.Serialize(new WidgetNamed("Ada", "Lovelace"));
        registry.Deserialize("test.widget-named.v2", data).Should().Be(new WidgetNamed("Ada", "Lovelace"));
    }

    [Test]
    public void an_old_version_is_read_through_its_upcaster_as_the_current_shape()
    {
        var registry = Registry().AddUpcaster("test.widget-named.v1", "test.widget-named.v2", old =>
        {
            var parts = old["name"]!.GetValue<string>().Split(' ', 2);
            return new System.Text.Json.Nodes.JsonObject { ["firstName"] = parts[0], ["lastName"] = parts.ElementAtOrDefault(1) ?? "" };
        });
        var stored = Encoding.UTF8.GetBytes("""{"name":"Grace Hopper"}""");
        registry.Deserialize("test.widget-named.v1", stored).Should().Be(new WidgetNamed("Grace", "Hopper"));
    }

    [Test]
    public void an_unknown_name_reads_as_nothing_rather_than_failing() =>
        Registry().Deserialize("test.from-the-future.v9", "{}"u8).Should().BeNull();

    [Test]
    public void a_type_without_a_name_cannot_be_stored()
    {
        var act = () => Registry().NameOf(typeof(NotAnEvent));
        act.Should().Throw<InvalidOperationException>().WithMessage("*NotAnEvent*");
    }

    [Test]
    public void two_types_cannot_share_one_name()
    {
        var act = () => Registry().Add(typeof(NotAnEvent), "test.widget-named.v2");
        act.Should().Throw<InvalidOperationException>().WithMessage("*used by both*");
    }
}

public sealed class DomainEventVersionTests
{
    [Test]
    public void stock_events_stored_before_voucher_codes_existed_read_as_the_current_version_without_codes()
    {
        var registry = EventTypeRegistry.ForDomain();
        registry.Deserialize("stock.received.v1", """{"receiptId":"r1","quantity":5,"unitCost":450,"currency":"EUR"}"""u8)
            .Should().Be(new Steller.Domain.Inventory.StockReceived("r1", 5, 450, "EUR", null));
        registry.Deserialize("stock.adjusted.v1", """{"adjustmentId":"a1","quantity":-2,"reason":"damaged"}"""u8)
            .Should().Be(new Steller.Domain.Inventory.StockAdjusted("a1", -2, "damaged", null));
        registry.Deserialize("stock.reservation-committed.v1", """{"reservationId":"res-1","quantity":3}"""u8)
            .Should().Be(new Steller.Domain.Inventory.ReservationCommitted("res-1", 3, null));
        registry.NameOf(typeof(Steller.Domain.Inventory.StockReceived)).Should().Be("stock.received.v2");
    }
}

public sealed class OrderIdTests
{
    [Test]
    public void order_ids_are_deterministic_per_partner_and_reference_and_well_formed()
    {
        var a = Order.IdFor("p1", "ref-1");
        a.Should().Be(Order.IdFor("p1", "ref-1"));
        a.Should().NotBe(Order.IdFor("p2", "ref-1"));
        a.Should().NotBe(Order.IdFor("p1", "ref-2"));
        Order.IsValidId(a).Should().BeTrue();
        Order.IsValidId(a.ToUpperInvariant()).Should().BeFalse();
        // Ten thousand references, ten thousand ids: 130 bits of SHA-256 leave no room for a collision here.
        Enumerable.Range(0, 10_000).Select(i => Order.IdFor("p1", $"r{i}")).Distinct().Should().HaveCount(10_000);
    }
}
