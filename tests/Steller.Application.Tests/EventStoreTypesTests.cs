using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;

namespace Steller.Application.Tests;

public sealed class EventStoreTypesTests
{
    [Test]
    public void log_positions_order_by_commit_then_prepare()
    {
        var positions = new[] { new LogPosition(2, 1), new LogPosition(1, 9), new LogPosition(2, 0), LogPosition.Start };
        positions.Order().Should().Equal(LogPosition.Start, new LogPosition(1, 9), new LogPosition(2, 0), new LogPosition(2, 1));
        (new LogPosition(1, 9) < new LogPosition(2, 0)).Should().BeTrue();
    }

    [TestCase("12/34", true, 12UL, 34UL)]
    [TestCase("0/0", true, 0UL, 0UL)]
    [TestCase("12", false, 0UL, 0UL)]
    [TestCase("a/b", false, 0UL, 0UL)]
    [TestCase("", false, 0UL, 0UL)]
    public void a_log_position_survives_its_text_form(string text, bool ok, ulong commit, ulong prepare)
    {
        LogPosition.TryParse(text, out var p).Should().Be(ok);
        if (ok)
        {
            p.Should().Be(new LogPosition(commit, prepare));
            p.ToString().Should().Be(text);
        }
    }

    [Test]
    public void an_exact_expected_revision_cannot_be_negative()
    {
        var act = () => ExpectedRevision.Exact(-1);
        act.Should().Throw<ArgumentOutOfRangeException>();
        ExpectedRevision.After(null).Should().Be(ExpectedRevision.NoStream);
        ExpectedRevision.After(new StreamRevision(4)).Should().Be(ExpectedRevision.Exact(4));
    }

    [Test]
    public void data_that_is_not_json_is_refused_before_it_reaches_a_store()
    {
        var e = new EventData(Guid.NewGuid(), "test.x.v1", "not json"u8.ToArray(), new EventMetadata("c", "c", Guid.NewGuid(), "a", DateTimeOffset.UtcNow));
        var act = () => AppendRules.Check("s-1", [e]);
        act.Should().Throw<InvalidAppendException>().WithMessage("*not valid UTF-8 JSON*");
    }
}
