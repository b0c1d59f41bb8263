using System.Collections.Concurrent;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// The gap test's machinery. Writers append inside explicit transactions that sleep before they commit (so identity
/// values are taken long before they become visible) and roll some back; a reader follows the global log meanwhile.
/// The check then proves the reader saw every committed event exactly once, no rolled-back one, and each stream in order.
/// </summary>
public sealed class GapHarness(TestDatabase db, PostgresEventStore store)
{
    public sealed record Seen(string StreamId, long Revision, Guid EventId, string Position);

    public sealed record Report(int Committed, int Seen, int Missing, int Duplicates, int RolledBackSeen, int StreamsOutOfOrder)
    {
        public bool Clean => Missing == 0 && Duplicates == 0 && RolledBackSeen == 0 && StreamsOutOfOrder == 0;
        public override string ToString() =>
            $"committed {Committed}, seen {Seen}, missing {Missing}, duplicates {Duplicates}, rolled back but seen {RolledBackSeen}, streams out of order {StreamsOutOfOrder}";
    }

    public ConcurrentDictionary<Guid, bool> Committed { get; } = new();
    public ConcurrentDictionary<Guid, bool> RolledBack { get; } = new();

    /// <summary>Each writer appends at least <paramref name="eventsPerWriter"/> committed events to its own few streams.</summary>
    public Task Write(int writers, int eventsPerWriter, double rollbackShare = 0.1, int maxDelayMs = 3) =>
        Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w * 7919);
            var streams = Enumerable.Range(0, 4).Select(s => $"gap-{w}-{s}-{Guid.NewGuid():N}").ToArray();
            var committed = 0;
            await using var conn = await db.DataSource.OpenConnectionAsync();
            while (committed < eventsPerWriter)
            {
                var batch = Events.Many(random.Next(1, 6));
                var rollback = random.NextDouble() < rollbackShare;
                await using var tx = await conn.BeginTransactionAsync();
                await store.AppendWithin(conn, tx, streams[random.Next(streams.Length)], ExpectedRevision.Any, batch);
                await Task.Delay(random.Next(0, maxDelayMs + 1)); // the identity is taken; the commit comes later
                if (rollback)
                {
                    await tx.RollbackAsync();
                    foreach (var e in batch) RolledBack[e.EventId] = true;
                }
                else
                {
                    await tx.CommitAsync();
                    store.AnnounceCommitted();
                    foreach (var e in batch) Committed[e.EventId] = true;
                    committed += batch.Length;
                }
            }
        })));

    /// <summary>Follows a reader until the writers are done and it has had a quiet second to catch up.</summary>
    public static async Task<List<Seen>> Follow(IAsyncEnumerable<Seen> reader, Task writers, CancellationToken ct)
    {
        var seen = new List<Seen>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var lastSeenAt = DateTime.UtcNow;
        var follow = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in reader.WithCancellation(stop.Token))
                {
                    lock (seen) seen.Add(e);
                    lastSeenAt = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        await writers;
        while (DateTime.UtcNow - lastSeenAt < TimeSpan.FromSeconds(1.5) && !ct.IsCancellationRequested) await Task.Delay(100, CancellationToken.None);
        stop.Cancel();
        await follow;
        lock (seen) return [.. seen];
    }

    public Report Check(IReadOnlyList<Seen> seen)
    {
        foreach (var dup in seen.Select((s, i) => (s, i)).GroupBy(x => x.s.EventId).Where(g => g.Count() > 1).Take(5))
            NUnit.Framework.TestContext.Out.WriteLine("duplicate: " + string.Join(" | ", dup.Select(x => $"#{x.i} {x.s}")));
        var ids = seen.Select(s => s.EventId).ToList();
        var distinct = ids.ToHashSet();
        var outOfOrder = seen.GroupBy(s => s.StreamId)
            .Count(g => !g.Select(s => s.Revision).SequenceEqual(Enumerable.Range(0, g.Count()).Select(i => (long)i)));
        return new Report(
            Committed: Committed.Count,
            Seen: ids.Count,
            Missing: Committed.Keys.Count(id => !distinct.Contains(id)),
            Duplicates: ids.Count - distinct.Count,
            RolledBackSeen: ids.Count(RolledBack.ContainsKey),
            StreamsOutOfOrder: outOfOrder);
    }

    /// <summary>The adapter's subscription (transaction-id ordered, snapshot-horizon guarded).</summary>
    public async IAsyncEnumerable<Seen> Subscription([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var e in store.SubscribeToAll(LogPosition.Start, ct))
            yield return new Seen(e.StreamId, e.Revision.Value, e.EventId, e.Position.ToString());
    }
}

/// <summary>
/// Deliberately wrong: follows the log by "position > last seen", the way a naive reader would. An identity value
/// taken by a transaction that commits after a later one is skipped for ever. Kept to prove the gap test has teeth.
/// </summary>
public sealed class NaiveReader(NpgsqlDataSource dataSource)
{
    public async IAsyncEnumerable<GapHarness.Seen> Follow([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        long last = 0;
        while (!ct.IsCancellationRequested)
        {
            var page = new List<(GapHarness.Seen Seen, long Position)>();
            await using (var cmd = dataSource.CreateCommand("select stream_id, revision, event_id, position from es.events where position > $1 order by position limit 1000"))
            {
                cmd.Parameters.AddWithValue(last);
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    page.Add((new GapHarness.Seen(reader.GetString(0), reader.GetInt64(1), reader.GetGuid(2), reader.GetInt64(3).ToString()), reader.GetInt64(3)));
            }
            foreach (var (seen, position) in page)
            {
                yield return seen;
                last = position;
            }
            if (page.Count == 0)
            {
                try { await Task.Delay(2, ct); } catch (OperationCanceledException) { yield break; }
            }
        }
    }
}
