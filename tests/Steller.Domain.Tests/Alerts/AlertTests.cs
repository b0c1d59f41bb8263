using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Alerts;

namespace Steller.Domain.Tests.Alerts;

/// <summary>An alert cause opens once while it lasts, closes when it is gone, and a later opening is a new alert.</summary>
public sealed class AlertTests() : AggregateSpec<AlertTests, Alert, IAlertCommand, IAlertEvent>(Alert.Empty, Alert.Evolve, Alert.Decide)
{
    private static readonly string First = Alert.IdOf(AlertKinds.StockLow, "sku-1@main", 1);
    private static readonly AlertOpened Opened = new(First, AlertKinds.StockLow, "sku-1@main", "available 2, threshold 5", Now);

    [Test]
    public void raising_a_cause_that_is_not_open_opens_an_alert_with_the_id_of_its_first_opening() =>
        GivenNothing()
            .When(new RaiseAlert(AlertKinds.StockLow, "sku-1@main", "available 2, threshold 5", Now))
            .Then(Opened);

    [Test]
    public void raising_an_open_or_acknowledged_cause_again_changes_nothing()
    {
        Given(Opened).When(new RaiseAlert(AlertKinds.StockLow, "sku-1@main", "available 1", Now.AddMinutes(1))).ThenNothingNew();
        Given(Opened, new AlertAcknowledged(First, AlertKinds.StockLow, "sku-1@main", "admin:ops", Now))
            .When(new RaiseAlert(AlertKinds.StockLow, "sku-1@main", "available 1", Now.AddMinutes(1))).ThenNothingNew();
    }

    [Test]
    public void resolving_closes_the_open_alert_once_and_a_later_raise_is_a_new_alert()
    {
        Given(Opened)
            .When(new ResolveAlert("available 9", Now.AddHours(1)))
            .Then(new AlertClosed(First, AlertKinds.StockLow, "sku-1@main", "available 9", Now.AddHours(1)))
            .When(new ResolveAlert("available 9", Now.AddHours(2))).ThenNothingNew()
            .When(new RaiseAlert(AlertKinds.StockLow, "sku-1@main", "available 0", Now.AddHours(3)))
            .ThenEvents(e => e.Should().ContainSingle().Which.AlertId.Should().Be(Alert.IdOf(AlertKinds.StockLow, "sku-1@main", 2)).And.NotBe(First));
    }

    [Test]
    public void resolving_a_cause_that_never_opened_changes_nothing() =>
        GivenNothing().When(new ResolveAlert("fine", Now)).ThenNothingNew();

    [Test]
    public void acknowledging_keeps_the_alert_until_its_cause_is_gone_and_a_closed_alert_cannot_be_acknowledged()
    {
        Given(Opened)
            .When(new AcknowledgeAlert(First, "admin:ops", Now))
            .Then(new AlertAcknowledged(First, AlertKinds.StockLow, "sku-1@main", "admin:ops", Now))
            .AndState(s => s.Current!.Status.Should().Be(AlertStatus.Acknowledged))
            .When(new AcknowledgeAlert(First, "admin:other", Now)).ThenNothingNew()
            .When(new ResolveAlert("restocked", Now)).ThenEvents(e => e.Should().ContainSingle().Which.Should().BeOfType<AlertClosed>())
            .When(new AcknowledgeAlert(First, "admin:ops", Now)).ThenFails(AlertErrors.Closed);
    }

    [Test]
    public void acknowledging_an_id_of_an_earlier_opening_is_refused_as_closed_and_an_unknown_id_as_not_found()
    {
        Given(Opened, new AlertClosed(First, AlertKinds.StockLow, "sku-1@main", "ok", Now),
                new AlertOpened(Alert.IdOf(AlertKinds.StockLow, "sku-1@main", 2), AlertKinds.StockLow, "sku-1@main", "again", Now))
            .When(new AcknowledgeAlert(First, "admin:ops", Now)).ThenFails(AlertErrors.Closed)
            .When(new AcknowledgeAlert("al_nope", "admin:ops", Now)).ThenFails(AlertErrors.NotFound);
    }

    [Test]
    public void an_unknown_kind_or_an_empty_or_overlong_subject_is_refused()
    {
        GivenNothing().When(new RaiseAlert("disk_full", "x", "", Now)).ThenFails(AlertErrors.UnknownKind);
        GivenNothing().When(new RaiseAlert(AlertKinds.AuditDrift, "", "", Now)).ThenFails(AlertErrors.InvalidSubject);
        GivenNothing().When(new RaiseAlert(AlertKinds.AuditDrift, new string('x', 201), "", Now)).ThenFails(AlertErrors.InvalidSubject);
    }

    [Test]
    public void alert_ids_are_stable_and_differ_by_kind_subject_and_opening()
    {
        Alert.IdOf("stock_low", "a", 1).Should().Be(Alert.IdOf("stock_low", "a", 1)).And.MatchRegex("^al_[a-z2-7]{26}$");
        new[] { Alert.IdOf("stock_low", "a", 1), Alert.IdOf("stock_low", "b", 1), Alert.IdOf("order_stuck", "a", 1), Alert.IdOf("stock_low", "a", 2) }
            .Should().OnlyHaveUniqueItems();
    }
}
