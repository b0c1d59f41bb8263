using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Wallets;
using Steller.Infrastructure.Postgres;

/// <summary>
/// The first command on a long wallet after a restart, snapshots off vs on. The stream is written straight to the store in
/// appends of 2,000 events: one deposit, then orders (a hold and its capture; every tenth hold released), a deposit every
/// 10,000 events. "Restart" is a new AggregateCommands (empty cache) in this process: JIT and connection pool are warm.
/// </summary>
internal static class ColdStart
{
    private static EventMetadata Meta() => new("bench", "bench", Guid.NewGuid(), "bench", DateTimeOffset.UtcNow);

    public static async Task<int> Run(NpgsqlDataSource dataSource, PostgresEventStore store, EventTypeRegistry registry, long events, int rounds)
    {
        var stream = Wallet.StreamName("cold", "EUR");
        var settings = new SnapshotSettings(EveryEvents: 1_000);
        var snapshotStore = new PostgresSnapshotStore(dataSource);
        AggregateCommands<Wallet, IWalletCommand, IWalletEvent> Fresh(bool snapshots) => snapshots
            ? new(Aggregates.Wallets, store, registry, NullLogger.Instance, snapshots: snapshotStore, snapshotSettings: settings)
            : new(Aggregates.Wallets, store, registry, NullLogger.Instance);

        Console.WriteLine($"machine : {Environment.ProcessorCount} cores; load average {LoadAverage()}");
        var written = Stopwatch.StartNew();
        await Write(store, registry, stream, events);
        Console.WriteLine($"history : {events:N0} events on {stream} in {written.Elapsed.TotalSeconds:0.0} s; load average {LoadAverage()}");

        var order = 0;
        var lastCpuMs = 0.0;
        // Wall time, and this process's CPU time over it: on a shared machine the CPU time is the steadier figure (it leaves
        // out PostgreSQL's side and the waiting for a core).
        var lastRecalled = 0L;
        async Task<(double Ms, long Read)> FirstCommand(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets)
        {
            var id = $"cold-{order++}";
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var t = Stopwatch.GetTimestamp();
            var outcome = await wallets.Execute(stream, new PlaceHold(id, 1, null, null, DateTimeOffset.UtcNow), Meta());
            var ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            lastCpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds;
            lastRecalled = wallets.EventsRecalled;
            if (!outcome.Succeeded) throw new InvalidOperationException($"the bench's hold was refused: {outcome.Error!.Code}");
            return (ms, wallets.EventsRead);
        }

        var off = new List<double>();
        var on = new List<double>();
        var offCpu = new List<double>();
        var onCpu = new List<double>();
        long offRead = 0, onRead = 0;
        for (var round = 0; round < rounds; round++)
        {
            var (ms, read) = await FirstCommand(Fresh(snapshots: false));
            off.Add(ms);
            offCpu.Add(lastCpuMs);
            offRead = read;
            Console.WriteLine($"  round {round + 1}: snapshots off: first command {ms,10:N1} ms (CPU {lastCpuMs:N0} ms), {read:N0} events read");
            if (round == 0)
            {
                // The first load with snapshots on finds none yet: it folds in full and leaves one behind (off the command path).
                var seeding = Fresh(snapshots: true);
                (ms, read) = await FirstCommand(seeding);
                var w = Stopwatch.StartNew();
                await seeding.SnapshotWrites();
                Console.WriteLine($"  round {round + 1}: snapshots on, none yet: first command {ms,10:N1} ms, {read:N0} events read; "
                    + $"snapshot written {w.Elapsed.TotalMilliseconds:N0} ms later");
            }
            for (var i = 0; i < 3; i++)
            {
                (ms, read) = await FirstCommand(Fresh(snapshots: true));
                on.Add(ms);
                onCpu.Add(lastCpuMs);
                onRead = read;
                Console.WriteLine($"  round {round + 1}: snapshots on:  first command {ms,10:N1} ms (CPU {lastCpuMs:N0} ms), {read:N0} events read, "
                    + $"{lastRecalled:N0} recalled by transfer id");
            }
        }

        // Where the snapshot case spends its time: reading the row, deserializing the state.
        var format = new SnapshotFormat<Wallet>("wallet", Wallet.SnapshotVersion, typeof(IWalletEvent), registry);
        var t0 = Stopwatch.GetTimestamp();
        var snapshot = (await snapshotStore.Read(stream))!;
        var readMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var state = format.Deserialize(snapshot.State);
        var deserializeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        var deserializeCpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds;
        Console.WriteLine($"snapshot: revision {snapshot.Revision:N0}, {snapshot.State.Length / 1_024.0:N1} KB, {state.Holds.Count:N0} holds and "
            + $"{state.Transfers.Count:N0} transfers in the state (lean: {state.Lean}); read {readMs:N1} ms, deserialized {deserializeMs:N1} ms "
            + $"(CPU {deserializeCpuMs:N0} ms)");
        // The other phases of a first command from a snapshot, one by one: the tail from the anchor event, the lookup of the
        // command's transfer id (a new one: nothing found), the append.
        t0 = Stopwatch.GetTimestamp();
        var tail = await store.ReadStream(stream, ReadDirection.Forwards, new StreamRevision(snapshot.Revision), 1_000);
        var tailMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        var found = await store.ReadByTransferIds(stream, ["cold-never-used"], tail.Events[^1].Revision.Value);
        var lookupMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        var before = Fresh(snapshots: true);
        await before.Load(stream);
        var loadMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        await before.Execute(stream, new PlaceHold($"cold-{order++}", 1, null, null, DateTimeOffset.UtcNow), Meta());
        var warmMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        Console.WriteLine($"phases  : tail read {tailMs:N1} ms ({tail.Events.Count} events), lookup by transfer id {lookupMs:N1} ms ({found.Count} found); "
            + $"load (snapshot + tail) {loadMs:N1} ms, then the command on the loaded state (lookup, decide, append) {warmMs:N1} ms");
        // The plan of the store's lookup on this stream: it must go through the index, not scan the stream's events.
        await using (var explain = dataSource.CreateCommand($"""
            explain (analyze, costs off) select * from es.events
             where stream_id = $1 and {PostgresEventStore.TransferIdExpression} = any($2)
               and {PostgresEventStore.TransferIdExpression} is not null and revision <= $3 order by revision
            """))
        {
            explain.Parameters.Add(new NpgsqlParameter { Value = stream });
            explain.Parameters.Add(new NpgsqlParameter { Value = new[] { "cold-never-used", "order-7" } });
            explain.Parameters.Add(new NpgsqlParameter { Value = tail.Events[^1].Revision.Value });
            await using var reader = await explain.ExecuteReaderAsync();
            Console.WriteLine("lookup plan:");
            while (await reader.ReadAsync()) Console.WriteLine($"  {reader.GetString(0)}");
        }
        Console.WriteLine($"load average {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| case | first command after restart (median) | min | max | bench CPU (median) | events read |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| snapshots off | {Median(off):N1} ms | {off.Min():N1} ms | {off.Max():N1} ms | {Median(offCpu):N0} ms | {offRead:N0} |");
        Console.WriteLine($"| snapshots on | {Median(on):N1} ms | {on.Min():N1} ms | {on.Max():N1} ms | {Median(onCpu):N0} ms | {onRead:N0} |");
        Console.WriteLine($"ratio off/on (medians): {Median(off) / Median(on):N0}x");
        return 0;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>A consistent wallet history of <paramref name="count"/> events, appended 2,000 at a time.</summary>
    private static async Task Write(PostgresEventStore store, EventTypeRegistry registry, string stream, long count)
    {
        var meta = Meta();
        var batch = new List<EventData>(2_000);
        long revision = -1, order = 0;
        var pendingCapture = (string?)null;
        async Task Flush()
        {
            if (batch.Count == 0) return;
            await store.Append(stream, revision < 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(revision), batch);
            revision += batch.Count;
            batch.Clear();
        }
        void Add(IWalletEvent e) => batch.Add(new EventData(Guid.NewGuid(), registry.NameOf(e.GetType()), registry.Serialize(e), meta));
        for (long i = 0; i < count; i++)
        {
            if (i == 0) Add(new WalletOpened("cold", "EUR"));
            else if (i % 10_000 == 1) Add(new Deposited($"dep-{i}", 1_000_000_000, "bench", "platform:funding:EUR"));
            else if (pendingCapture is { } id)
            {
                Add(order % 10 == 0 ? new HoldReleased(id, 100, "cancelled")
                    : new HoldCaptured(id, 90, 10, [new CaptureLeg("platform:revenue:EUR", 90)]));
                pendingCapture = null;
            }
            else
            {
                pendingCapture = $"order-{++order}";
                Add(new HoldPlaced(pendingCapture, 100, null, pendingCapture));
            }
            if (batch.Count == 2_000) await Flush();
        }
        await Flush();
        if (pendingCapture is { } open) // leave no hold open
            await store.Append(stream, ExpectedRevision.Exact(revision), [new EventData(Guid.NewGuid(), "wallet.hold-released.v1",
                registry.Serialize(new HoldReleased(open, 100, "cancelled")), meta)]);
    }
}
