using System.Diagnostics;
using Steller.Application.EventStore;
using Steller.Projections.Wallets;

namespace Steller.Projections.Chain;

/// <summary>Why the chain breaks at a place.</summary>
public static class ChainBreakKinds
{
    /// <summary>The event at the position no longer gives the sealed hash: it (or the sealed link) was changed.</summary>
    public const string Changed = "changed";
    /// <summary>A sealed event is no longer in the log: deleted (or moved).</summary>
    public const string Missing = "missing";
    /// <summary>An event inside the sealed part of the log that was never sealed: inserted after the fact.</summary>
    public const string Inserted = "inserted";
    /// <summary>The chain table itself is broken (a sequence number skipped or repeated).</summary>
    public const string ChainGap = "chain_gap";
    /// <summary>The recomputed hash at a position differs from the one the caller wrote down (--expect).</summary>
    public const string Unexpected = "expected_hash_differs";
}

/// <summary>The first place the chain breaks: the log position (and sequence) and what is wrong there.</summary>
public sealed record ChainBreak(string Kind, string Position, long Sequence, string Message);

/// <summary>The outcome of recomputing the chain.</summary>
/// <param name="Intact">True when every sealed event checked gives its sealed hash.</param>
/// <param name="From">The position verification started at (null: the start of the log).</param>
/// <param name="EventsChecked">Sealed events recomputed.</param>
/// <param name="Sequence">The last link recomputed and found intact (0 when none).</param>
/// <param name="Position">Its log position.</param>
/// <param name="Hash">Its hash (hex), recomputed from the log: finance can compare it with one written down.</param>
/// <param name="Unsealed">Events after the chain's head (not sealed yet, so not checked).</param>
/// <param name="Break">The first break, when not intact.</param>
public sealed record ChainVerification(bool Intact, string? From, long EventsChecked, long Sequence, string? Position, string Hash,
    long Unsealed, ChainBreak? Break);

/// <summary>What the caller wrote down: the hash the chain must have at a position (e.g. a head from GET /admin/ledger/head).</summary>
public sealed record ExpectedLink(LogPosition Position, string Hash);

/// <summary>
/// Recomputes the hash chain from the log and compares it with es.chain, link by link, walking both in log order. Reads
/// pages of the log and of the chain ahead while it hashes.
/// </summary>
public sealed class ChainVerifier(IChainLog log, ChainStore chain)
{
    public const int PageSize = 10_000;

    /// <summary>Links checked per statement when the log is in PostgreSQL (one progress step each).</summary>
    public const int DatabaseStretch = 100_000;

    /// <summary>Stretches checked at once (each one statement on its own connection; PostgreSQL runs each on a core).</summary>
    public static readonly int Parallelism = Math.Clamp(Environment.ProcessorCount, 2, 8);

    /// <summary>
    /// Verifies from <paramref name="from"/> (trusting the link before it; null: from the genesis). With the PostgreSQL event
    /// store the links are checked inside the database (<see cref="PostgresChainCheck"/>), unless <paramref name="inProcess"/>
    /// asks for the event-by-event recomputation here (what every other backend gets); both find the same first break.
    /// </summary>
    public Task<ChainVerification> Verify(LogPosition? from = null, ExpectedLink? expected = null,
        IProgress<ReplayProgress>? progress = null, CancellationToken ct = default, bool inProcess = false) =>
        log is PostgresChainLog pg && !inProcess
            ? VerifyInDatabase(pg, from, expected, progress, ct)
            : Recompute(from, expected, progress, ct);

    private async Task<ChainVerification> VerifyInDatabase(PostgresChainLog pg, LogPosition? from, ExpectedLink? expected,
        IProgress<ReplayProgress>? progress, CancellationToken ct)
    {
        var head = await chain.Head(ct);
        var start = from is { } f ? await chain.LastBefore(f, ct) : null; // the last link trusted
        var startSequence = start?.Sequence ?? 0;
        long total = head is null ? 0 : Math.Max(0, head.Sequence - startSequence);
        var clock = Stopwatch.StartNew();
        // Stretches of the chain, each checked against its own first link's predecessor: independent, so they run side by side.
        var bounds = new List<ChainLink?> { start };
        for (var s = startSequence + DatabaseStretch; head is not null && s < head.Sequence; s += DatabaseStretch)
            if (await chain.LinkAfter(s - 1, 0, ct) is { } link && link.Sequence < head.Sequence) bounds.Add(link);
        if (head is not null && head.Sequence > startSequence) bounds.Add(head);
        ChainBreak? broken = null;
        var at = start; // the last link found intact
        for (var i = 0; i + 1 < bounds.Count && broken is null; i += Parallelism)
        {
            var wave = Enumerable.Range(i, Math.Min(Parallelism, bounds.Count - 1 - i))
                .Select(k => PostgresChainCheck.FirstBreak(pg.DataSource, bounds[k]?.Sequence ?? 0, bounds[k]?.Position ?? LogPosition.Start,
                    bounds[k]?.Hash ?? ChainHasher.Genesis, bounds[k + 1]!, ct))
                .ToList();
            await Task.WhenAll(wave);
            for (var k = 0; k < wave.Count; k++)
            {
                if (wave[k].Result is { } found)
                {
                    broken = Describe(found);
                    if (await chain.LastBefore(found.Position, ct) is { } good && good.Sequence > (at?.Sequence ?? 0)) at = good;
                    break;
                }
                at = bounds[i + k + 1];
            }
            var done = (at?.Sequence ?? 0) - startSequence;
            progress?.Report(new ReplayProgress(done, total, done / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)));
        }
        if (broken is null && expected is { } x)
        {
            var there = x.Position > (start?.Position ?? LogPosition.Start) ? await chain.At(x.Position, ct) : null;
            if (there is null) broken = NotInChain(x);
            else if (!string.Equals(there.HashHex, x.Hash, StringComparison.OrdinalIgnoreCase)) broken = NotAsWrittenDown(x, there);
        }
        var checkedCount = (at?.Sequence ?? 0) - startSequence;
        progress?.Report(new ReplayProgress(checkedCount, Math.Max(total, checkedCount), checkedCount / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)));
        var unsealed = broken is null ? await PostgresChainCheck.CountAfter(pg.DataSource, head?.Position ?? LogPosition.Start, ct) : 0;
        return new ChainVerification(broken is null, from?.ToString(), checkedCount, at?.Sequence ?? 0, at?.Position.ToString(),
            ChainHasher.Hex(at?.Hash ?? ChainHasher.Genesis), unsealed, broken);
    }

    private static ChainBreak Describe(DatabaseChainBreak b) => b.Kind switch
    {
        ChainBreakKinds.Missing => new ChainBreak(b.Kind, b.Position.ToString(), b.Sequence ?? 0,
            $"The event sealed at position {b.Position} (sequence {b.Sequence}) is no longer in the log: it was deleted."),
        ChainBreakKinds.Inserted => new ChainBreak(b.Kind, b.Position.ToString(), b.Sequence ?? 0,
            $"The event at position {b.Position} ({b.Type} in {b.StreamId}) lies inside the sealed log but was never sealed: it was "
            + "inserted after the fact."),
        ChainBreakKinds.ChainGap => new ChainBreak(b.Kind, b.Position.ToString(), b.Sequence ?? 0,
            $"es.chain skips a sequence number before {b.Sequence} at position {b.Position}: links were deleted or renumbered."),
        _ => Changed(b.Position, b.Sequence ?? 0, b.Type, b.StreamId, b.Revision),
    };

    private static ChainBreak Changed(LogPosition position, long sequence, string? type, string? stream, long? revision) =>
        new(ChainBreakKinds.Changed, position.ToString(), sequence,
            $"The event at position {position} (sequence {sequence}, {type} in {stream} revision {revision}) no longer gives its sealed "
            + "hash: it was changed after it was sealed (or its link was).");

    private static ChainBreak NotAsWrittenDown(ExpectedLink x, ChainLink? link) =>
        new(ChainBreakKinds.Unexpected, x.Position.ToString(), link?.Sequence ?? 0,
            $"The chain at position {x.Position} (sequence {link?.Sequence}) recomputes to {(link is null ? "nothing" : link.HashHex)}, not the "
            + $"{x.Hash} written down: the log before it was rewritten and the chain sealed again.");

    private static ChainBreak NotInChain(ExpectedLink x) =>
        new(ChainBreakKinds.Unexpected, x.Position.ToString(), 0,
            $"No sealed event at position {x.Position} was checked: the position written down is not in the chain (any more).");

    private async Task<ChainVerification> Recompute(LogPosition? from, ExpectedLink? expected,
        IProgress<ReplayProgress>? progress, CancellationToken ct)
    {
        var head = await chain.Head(ct);
        var start = from is { } f ? await chain.LastBefore(f, ct) : null;
        var previous = start?.Hash ?? ChainHasher.Genesis;
        var lastSequence = start?.Sequence ?? 0;
        LogPosition? lastPosition = start?.Position;
        long? total = head is null ? 0 : head.Sequence - lastSequence;
        var events = new Pages<ChainEntry>(after => log.Read(after?.Position ?? start?.Position ?? LogPosition.Start, PageSize, ct));
        var links = new Pages<ChainLink>(after => chain.Read(after?.Sequence ?? lastSequence, PageSize, ct));
        var hasher = new ChainHasher();
        var hash = new byte[ChainHasher.HashSize];
        var clock = Stopwatch.StartNew();
        long checkedCount = 0;
        ChainBreak? broken = null;
        var expectedSeen = false;

        ChainVerification Result(long unsealed) => new(broken is null && (expected is null || expectedSeen), from?.ToString(), checkedCount,
            lastSequence, lastPosition?.ToString(), ChainHasher.Hex(previous), unsealed, broken);

        while (true)
        {
            var link = await links.Peek();
            var entry = await events.Peek();
            if (link is null) break; // the rest of the log (if any) is not sealed yet
            if (link.Sequence != lastSequence + 1)
            {
                broken = new ChainBreak(ChainBreakKinds.ChainGap, link.Position.ToString(), link.Sequence,
                    $"es.chain skips from sequence {lastSequence} to {link.Sequence} at position {link.Position}: links were deleted or renumbered.");
                break;
            }
            if (entry is null || entry.Position > link.Position)
            {
                broken = new ChainBreak(ChainBreakKinds.Missing, link.Position.ToString(), link.Sequence,
                    $"The event sealed at position {link.Position} (sequence {link.Sequence}) is no longer in the log: it was deleted.");
                break;
            }
            if (entry.Position < link.Position)
            {
                broken = new ChainBreak(ChainBreakKinds.Inserted, entry.Position.ToString(), link.Sequence,
                    $"The event at position {entry.Position} ({entry.Type} in {entry.StreamId}) lies inside the sealed log but was never "
                    + $"sealed: it was inserted after the fact (the link there is for {link.Position}).");
                break;
            }
            hasher.Next(previous, entry, hash);
            if (!hash.AsSpan().SequenceEqual(link.Hash))
            {
                broken = Changed(entry.Position, link.Sequence, entry.Type, entry.StreamId, entry.Revision);
                break;
            }
            previous = link.Hash;
            lastSequence = link.Sequence;
            lastPosition = link.Position;
            checkedCount++;
            await links.Take();
            await events.Take();
            if (expected is { } x && x.Position == link.Position)
            {
                expectedSeen = true;
                if (!string.Equals(x.Hash, ChainHasher.Hex(previous), StringComparison.OrdinalIgnoreCase))
                {
                    broken = NotAsWrittenDown(x, link);
                    break;
                }
            }
            if (checkedCount % PageSize == 0)
                progress?.Report(new ReplayProgress(checkedCount, total, checkedCount / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)));
        }
        if (broken is null && expected is not null && !expectedSeen)
            broken = NotInChain(expected);
        progress?.Report(new ReplayProgress(checkedCount, Math.Max(total ?? 0, checkedCount), checkedCount / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)));
        long unsealed = 0;
        if (broken is null)
            while (await events.Peek() is not null) { unsealed++; await events.Take(); }
        return Result(unsealed);
    }

    /// <summary>Items of a paged source one at a time, with the next page read while the current one is used.</summary>
    private sealed class Pages<T>(Func<T?, Task<IReadOnlyList<T>>> read) where T : class
    {
        private IReadOnlyList<T>? page;
        private int index;
        private Task<IReadOnlyList<T>>? next;
        private bool done;

        public async ValueTask<T?> Peek()
        {
            if (page is not null && index < page.Count) return page[index];
            if (done) return null;
            var last = page is { Count: > 0 } ? page[^1] : null;
            page = await (next ?? read(last));
            next = null;
            index = 0;
            if (page.Count == 0)
            {
                done = true;
                return null;
            }
            next = page.Count < PageSize ? null : read(page[^1]); // read ahead while this page is used
            return page[0];
        }

        public async ValueTask Take()
        {
            await Peek();
            index++;
        }
    }
}
