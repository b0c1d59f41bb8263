using System.Runtime.CompilerServices;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Projections.Engine;

namespace Steller.Projections.Tests;

/// <summary>The one shared reader of the log: followers in its window, behind it, and after it failed.</summary>
public sealed class LogTailTests
{
    [Test, CancelAfter(20_000)]
    public async Task followers_at_different_positions_each_get_the_log_in_order_from_where_they_are(CancellationToken ct)
    {
        var store = new ListStore(Enumerable.Range(1, 50).Select(Event).ToList());
        await using var tail = new LogTail(store, windowSize: 10);

        var head = await tail.Next(Position(40), 100, ct);           // starts the shared reader at 40
        head.Select(e => e.Position.Prepare).Should().Equal(Enumerable.Range(41, 10).Select(i => (ulong)i));
        var behind = await tail.Next(Position(3), 5, ct);            // behind the window: reads the store on its own
        behind.Select(e => e.Position.Prepare).Should().Equal(4UL, 5UL, 6UL, 7UL, 8UL);

        store.Add(Event(51));
        var live = await tail.Next(Position(50), 100, ct);           // waits for the shared reader to move
        live.Select(e => e.Position.Prepare).Should().Equal(51UL);
    }

    [Test, CancelAfter(20_000)]
    public async Task a_follower_with_nothing_new_gets_an_empty_answer_after_its_longest_wait(CancellationToken ct)
    {
        var store = new ListStore([Event(1)]);
        await using var tail = new LogTail(store);
        (await tail.Next(Position(0), 10, ct)).Should().ContainSingle();
        (await tail.Next(Position(1), 10, ct, TimeSpan.FromMilliseconds(100))).Should().BeEmpty();
    }

    [Test, CancelAfter(20_000)]
    public async Task a_shared_reader_that_failed_is_started_again_by_the_next_follower(CancellationToken ct)
    {
        var store = new ListStore(Enumerable.Range(1, 5).Select(Event).ToList()) { FailuresLeft = 1 };
        await using var tail = new LogTail(store);

        var first = async () => await tail.Next(Position(0), 10, ct);
        await first.Should().ThrowAsync<InvalidOperationException>().WithMessage("The shared log reader stopped*");
        (await tail.Next(Position(0), 10, ct)).Should().HaveCount(5, "the retry starts a new shared reader");
    }

    private static LogPosition Position(int n) => new(1, (ulong)n);

    private static RecordedEvent Event(int n) => new($"s-{n}", new StreamRevision(0), Position(n), Guid.NewGuid(), "test.happened.v1",
        "{}"u8.ToArray(), new EventMetadata("c", "c", Guid.NewGuid(), "test", DateTimeOffset.UnixEpoch));

    /// <summary>A log in memory: ReadAll pages it; SubscribeToAll follows additions (polling) from a position.</summary>
    private sealed class ListStore(List<RecordedEvent> events) : IEventStore
    {
        public int FailuresLeft { get; set; }

        public void Add(RecordedEvent e)
        {
            lock (events) events.Add(e);
        }

        public Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default)
        {
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new TimeoutException("the database went away");
            }
            lock (events) return Task.FromResult<IReadOnlyList<RecordedEvent>>(events.Where(e => e.Position > after).Take(maxCount).ToList());
        }

        public async IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, [EnumeratorCancellation] CancellationToken ct = default)
        {
            while (true)
            {
                foreach (var e in await ReadAll(after, 1_000, ct))
                {
                    yield return e;
                    after = e.Position;
                }
                await Task.Delay(10, ct);
            }
        }

        public Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> data, CancellationToken ct = default) =>
            throw new NotSupportedException();

        public Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards, StreamRevision? from = null,
            int maxCount = int.MaxValue, CancellationToken ct = default) => throw new NotSupportedException();
    }
}
