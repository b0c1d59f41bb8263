using System.Collections.Concurrent;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Testing;

namespace Steller.EventStore.Contract;

/// <summary>
/// What every <see cref="IEventStore"/> adapter must do, written once (EventStoreDB semantics, see ARCHITECTURE.md
/// and shared/design/EVENTSTOREDB.md). A derived fixture supplies the store; every test uses its own streams, so
/// one store serves the whole fixture.
/// </summary>
public abstract class EventStoreContract
{
    protected IEventStore Store { get; private set; } = null!;

    /// <summary>Creates the store under test (called once per fixture).</summary>
    protected abstract Task<IEventStore> CreateStore();

    /// <summary>Releases what <see cref="CreateStore"/> made.</summary>
    protected virtual Task DisposeStore() => Task.CompletedTask;

    [OneTimeSetUp] public async Task SetUpStore() => Store = await CreateStore();
    [OneTimeTearDown] public Task TearDownStore() => DisposeStore();

    // ---- appending and expected revisions ----

    [Test]
    public async Task appending_to_a_new_stream_numbers_events_from_zero_and_reads_them_back_unchanged()
    {
        var stream = Events.Stream();
        var events = new[] { Events.Make("test.first.v1", """{"a":1,"text":"héllo"}"""), Events.Make("test.second.v1", """{"b":[1,2,3]}""") };

        var result = await Store.Append(stream, ExpectedRevision.NoStream, events);

        result.CurrentRevision.Should().Be(new StreamRevision(1));
        var slice = await Store.ReadStream(stream);
        slice.StreamExists.Should().BeTrue();
        slice.LastRevision.Should().Be(new StreamRevision(1));
        slice.Events.Select(e => e.Revision.Value).Should().Equal(0, 1);
        slice.Events.Select(e => e.EventId).Should().Equal(events.Select(e => e.EventId));
        slice.Events.Select(e => e.Type).Should().Equal("test.first.v1", "test.second.v1");
        slice.Events.Select(Events.Json).Should().Equal(events.Select(e => System.Text.Encoding.UTF8.GetString(e.Data.Span)), "data is stored byte for byte");
        slice.Events.Select(e => e.Metadata).Should().Equal(events.Select(e => e.Metadata));
        slice.Events.Should().OnlyContain(e => e.StreamId == stream);
        slice.Events[1].Position.Should().BeGreaterThan(slice.Events[0].Position);
        result.Position.Should().Be(slice.Events[1].Position);
    }

    [Test]
    public async Task no_stream_expectation_fails_when_the_stream_exists()
    {
        var stream = Events.Stream();
        await Store.Append(stream, ExpectedRevision.NoStream, Events.Many(3));

        var act = () => Store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);

        (await act.Should().ThrowAsync<WrongExpectedRevisionException>()).Which.ActualRevision.Should().Be(new StreamRevision(2));
    }

    [Test]
    public async Task exact_revision_appends_when_it_matches_and_fails_with_the_actual_revision_when_not()
    {
        var stream = Events.Stream();
        var first = await Store.Append(stream, ExpectedRevision.NoStream, Events.Many(2));

        var second = await Store.Append(stream, first.NextExpectedRevision, [Events.Make()]);
        second.CurrentRevision.Should().Be(new StreamRevision(2));

        var stale = () => Store.Append(stream, ExpectedRevision.Exact(1), [Events.Make()]);
        var error = (await stale.Should().ThrowAsync<WrongExpectedRevisionException>()).Which;
        error.ActualRevision.Should().Be(new StreamRevision(2));
        error.Expected.Should().Be(ExpectedRevision.Exact(1));
        (await Store.ReadStream(stream)).Events.Should().HaveCount(3);
    }

    [Test]
    public async Task exact_revision_on_a_missing_stream_fails_with_no_actual_revision()
    {
        var act = () => Store.Append(Events.Stream(), ExpectedRevision.Exact(0), [Events.Make()]);
        (await act.Should().ThrowAsync<WrongExpectedRevisionException>()).Which.ActualRevision.Should().BeNull();
    }

    [Test]
    public async Task stream_exists_expectation_fails_on_a_missing_stream_and_appends_to_an_existing_one()
    {
        var stream = Events.Stream();
        var missing = () => Store.Append(stream, ExpectedRevision.StreamExists, [Events.Make()]);
        (await missing.Should().ThrowAsync<WrongExpectedRevisionException>()).Which.ActualRevision.Should().BeNull();
        (await Store.ReadStream(stream)).StreamExists.Should().BeFalse("a refused append creates nothing");

        await Store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
        var result = await Store.Append(stream, ExpectedRevision.StreamExists, [Events.Make()]);
        result.CurrentRevision.Should().Be(new StreamRevision(1));
    }

    [Test]
    public async Task any_expectation_creates_a_missing_stream_and_appends_to_an_existing_one()
    {
        var stream = Events.Stream();
        (await Store.Append(stream, ExpectedRevision.Any, Events.Many(2))).CurrentRevision.Should().Be(new StreamRevision(1));
        (await Store.Append(stream, ExpectedRevision.Any, Events.Many(2))).CurrentRevision.Should().Be(new StreamRevision(3));
    }

    [Test]
    public async Task an_empty_append_with_no_stream_succeeds_and_creates_nothing()
    {
        var stream = Events.Stream();
        var result = await Store.Append(stream, ExpectedRevision.NoStream, []);
        result.NextExpectedRevision.Should().Be(ExpectedRevision.NoStream);
        (await Store.ReadStream(stream)).StreamExists.Should().BeFalse();
        await Store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]); // still "no stream"
    }

    // ---- idempotency by event id ----

    [Test]
    public async Task retrying_a_whole_batch_returns_the_original_result_and_writes_nothing_twice()
    {
        var stream = Events.Stream();
        var batch = Events.Many(3);
        var original = await Store.Append(stream, ExpectedRevision.NoStream, batch);
        await Store.Append(stream, original.NextExpectedRevision, [Events.Make()]); // a later write

        foreach (var expected in new[] { ExpectedRevision.NoStream, ExpectedRevision.Exact(2), ExpectedRevision.Any, ExpectedRevision.StreamExists })
        {
            var retry = await Store.Append(stream, expected, batch);
            retry.Should().Be(original, $"a retry with {expected} is the same append");
        }
        (await Store.ReadStream(stream)).Events.Should().HaveCount(4);
    }

    [Test]
    public async Task an_event_id_already_stored_is_not_written_again_even_with_a_different_payload()
    {
        var stream = Events.Stream();
        var id = Guid.NewGuid();
        var original = await Store.Append(stream, ExpectedRevision.Any, [Events.Make(json: """{"v":1}""", id: id)]);

        var again = await Store.Append(stream, ExpectedRevision.Any, [Events.Make(json: """{"v":2}""", id: id)]);

        again.Should().Be(original);
        var slice = await Store.ReadStream(stream);
        slice.Events.Should().ContainSingle().Which.Data.ToArray().Should().Equal(System.Text.Encoding.UTF8.GetBytes("""{"v":1}"""), "the first payload stays");
    }

    [Test]
    public async Task a_batch_that_partly_overlaps_stored_ids_is_refused()
    {
        var stream = Events.Stream();
        var stored = Events.Make();
        await Store.Append(stream, ExpectedRevision.NoStream, [stored]);

        var act = () => Store.Append(stream, ExpectedRevision.Any, [stored, Events.Make()]);

        await act.Should().ThrowAsync<WrongExpectedRevisionException>();
        (await Store.ReadStream(stream)).Events.Should().ContainSingle();
    }

    [Test]
    public async Task event_ids_are_deduplicated_per_stream_not_globally()
    {
        var id = Guid.NewGuid();
        await Store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make(id: id)]);
        var other = Events.Stream();
        await Store.Append(other, ExpectedRevision.NoStream, [Events.Make(id: id)]);
        (await Store.ReadStream(other)).Events.Should().ContainSingle();
    }

    // ---- bad input, refused before anything is written ----

    [Test]
    public async Task the_same_event_id_twice_in_one_batch_is_refused()
    {
        var e = Events.Make();
        var act = () => Store.Append(Events.Stream(), ExpectedRevision.Any, [e, e]);
        (await act.Should().ThrowAsync<InvalidAppendException>()).WithMessage("*twice*");
    }

    [TestCase("")]
    [TestCase("  ")]
    [TestCase("$all")]
    [TestCase("$system")]
    public async Task empty_or_reserved_stream_names_are_refused(string stream)
    {
        var act = () => Store.Append(stream, ExpectedRevision.Any, [Events.Make()]);
        await act.Should().ThrowAsync<InvalidAppendException>();
    }

    [Test]
    public async Task an_event_without_an_id_or_type_is_refused()
    {
        var noId = () => Store.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make() with { EventId = Guid.Empty }]);
        await noId.Should().ThrowAsync<InvalidAppendException>();
        var noType = () => Store.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make() with { Type = "" }]);
        await noType.Should().ThrowAsync<InvalidAppendException>();
    }

    // ---- reading streams ----

    [Test]
    public async Task a_stream_reads_forwards_from_a_revision_with_a_maximum()
    {
        var stream = Events.Stream();
        await Store.Append(stream, ExpectedRevision.NoStream, Events.Many(10));

        var slice = await Store.ReadStream(stream, ReadDirection.Forwards, new StreamRevision(3), maxCount: 4);

        slice.Events.Select(e => e.Revision.Value).Should().Equal(3, 4, 5, 6);
        slice.LastRevision.Should().Be(new StreamRevision(9));
    }

    [Test]
    public async Task a_stream_reads_backwards_from_the_end_or_from_a_revision()
    {
        var stream = Events.Stream();
        await Store.Append(stream, ExpectedRevision.NoStream, Events.Many(5));

        (await Store.ReadStream(stream, ReadDirection.Backwards, maxCount: 2)).Events.Select(e => e.Revision.Value).Should().Equal(4, 3);
        (await Store.ReadStream(stream, ReadDirection.Backwards, new StreamRevision(2))).Events.Select(e => e.Revision.Value).Should().Equal(2, 1, 0);
    }

    [Test]
    public async Task reading_a_missing_stream_says_it_does_not_exist()
    {
        var slice = await Store.ReadStream(Events.Stream());
        slice.StreamExists.Should().BeFalse();
        slice.LastRevision.Should().BeNull();
        slice.Events.Should().BeEmpty();
        (await Store.ReadStream(Events.Stream(), ReadDirection.Backwards)).StreamExists.Should().BeFalse();
    }

    [Test]
    public async Task reading_past_the_end_of_a_stream_returns_no_events_but_the_last_revision()
    {
        var stream = Events.Stream();
        await Store.Append(stream, ExpectedRevision.NoStream, Events.Many(2));
        var slice = await Store.ReadStream(stream, ReadDirection.Forwards, new StreamRevision(5));
        slice.Events.Should().BeEmpty();
        slice.LastRevision.Should().Be(new StreamRevision(1));
    }

    // ---- the global log ----

    [Test]
    public async Task the_global_log_returns_events_after_a_position_in_append_order()
    {
        var stream = Events.Stream();
        var before = await Head();
        var appended = Events.Many(5);
        foreach (var e in appended) await Store.Append(stream, ExpectedRevision.Any, [e]);

        var all = (await ReadAllAfter(before)).Where(e => e.StreamId == stream).ToList();
        all.Select(e => e.EventId).Should().Equal(appended.Select(e => e.EventId));
        all.Select(e => e.Position).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();

        var rest = (await Store.ReadAll(all[1].Position, 1000)).Where(e => e.StreamId == stream);
        rest.Select(e => e.EventId).Should().Equal(appended.Skip(2).Select(e => e.EventId), "reading after a position excludes it");
        (await Store.ReadAll(before, 2)).Should().HaveCount(2, "maxCount caps a page");
    }

    [Test]
    public async Task the_global_log_carries_stream_revision_and_metadata_of_each_event()
    {
        var stream = Events.Stream();
        var before = await Head();
        var e = Events.Make("test.described.v1", """{"x":"y"}""");
        await Store.Append(stream, ExpectedRevision.NoStream, [e]);

        var read = (await ReadAllAfter(before)).Single(r => r.EventId == e.EventId);
        read.StreamId.Should().Be(stream);
        read.Revision.Should().Be(StreamRevision.First);
        read.Type.Should().Be("test.described.v1");
        read.Metadata.Should().Be(e.Metadata);
    }

    [Test]
    public async Task concurrent_writers_never_reorder_a_stream_in_the_global_log()
    {
        var before = await Head();
        var streams = Enumerable.Range(0, 8).Select(_ => Events.Stream("order")).ToArray();
        await Task.WhenAll(streams.Select(async s =>
        {
            for (var i = 0; i < 25; i++) await Store.Append(s, ExpectedRevision.Any, Events.Many(2));
        }));

        var all = (await ReadAllAfter(before)).Where(e => streams.Contains(e.StreamId)).ToList();
        all.Should().HaveCount(8 * 50);
        foreach (var group in all.GroupBy(e => e.StreamId))
            group.Select(e => e.Revision.Value).Should().Equal(Enumerable.Range(0, 50).Select(i => (long)i));
    }

    // ---- subscriptions ----

    [Test]
    public async Task a_subscription_delivers_history_then_live_events_and_starts_after_its_position()
    {
        var stream = Events.Stream();
        var first = await Store.Append(stream, ExpectedRevision.NoStream, Events.Many(3));
        var from = (await Store.ReadStream(stream)).Events[0].Position;

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<RecordedEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in Store.SubscribeToAll(from, cts.Token))
            {
                if (e.StreamId != stream) continue;
                seen.Add(e);
                if (seen.Count == 3) break;
            }
        });
        await Eventually.True(() => Task.FromResult(seen.Count >= 2), TimeSpan.FromSeconds(20), "the subscription caught up");
        await Store.Append(stream, first.NextExpectedRevision, [Events.Make("test.live.v1")]);
        await reading.WaitAsync(TimeSpan.FromSeconds(20));

        seen.Select(e => e.Revision.Value).Should().Equal(1, 2, 3);
        seen[^1].Type.Should().Be("test.live.v1");
    }

    // ---- concurrency ----

    [Test]
    public async Task fifty_concurrent_appends_at_the_same_revision_let_exactly_one_win()
    {
        var stream = Events.Stream();
        await Store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
        var wins = 0;
        var conflicts = 0;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            try { await Store.Append(stream, ExpectedRevision.Exact(0), [Events.Make()]); Interlocked.Increment(ref wins); }
            catch (WrongExpectedRevisionException) { Interlocked.Increment(ref conflicts); }
        }));
        wins.Should().Be(1);
        conflicts.Should().Be(49);
        (await Store.ReadStream(stream)).Events.Should().HaveCount(2);
    }

    [Test]
    public async Task fifty_concurrent_creators_of_one_stream_let_exactly_one_win()
    {
        var stream = Events.Stream();
        var wins = 0;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            try { await Store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]); Interlocked.Increment(ref wins); }
            catch (WrongExpectedRevisionException) { }
        }));
        wins.Should().Be(1);
        (await Store.ReadStream(stream)).Events.Should().ContainSingle();
    }

    [Test]
    public async Task concurrent_appends_with_any_all_land_with_contiguous_revisions()
    {
        var stream = Events.Stream();
        var ids = new ConcurrentBag<Guid>();
        await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            var e = Events.Make();
            await Store.Append(stream, ExpectedRevision.Any, [e]);
            ids.Add(e.EventId);
        }));
        var slice = await Store.ReadStream(stream);
        slice.Events.Select(e => e.Revision.Value).Should().Equal(Enumerable.Range(0, 100).Select(i => (long)i));
        slice.Events.Select(e => e.EventId).Should().BeEquivalentTo(ids);
    }

    [Test]
    public async Task the_same_event_submitted_concurrently_is_stored_once()
    {
        var stream = Events.Stream();
        var e = Events.Make();
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Store.Append(stream, ExpectedRevision.Any, [e])));
        results.Distinct().Should().ContainSingle("every submission gets the original result");
        (await Store.ReadStream(stream)).Events.Should().ContainSingle();
    }

    // ---- helpers ----

    /// <summary>The position of the newest event in the log right now.</summary>
    protected async Task<LogPosition> Head()
    {
        var position = LogPosition.Start;
        while (true)
        {
            var page = await Store.ReadAll(position, 5000);
            if (page.Count == 0) return position;
            position = page[^1].Position;
        }
    }

    protected async Task<List<RecordedEvent>> ReadAllAfter(LogPosition after)
    {
        var result = new List<RecordedEvent>();
        while (true)
        {
            var page = await Store.ReadAll(after, 1000);
            if (page.Count == 0) return result;
            result.AddRange(page);
            after = page[^1].Position;
        }
    }
}
