using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Chain;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Projections.Tests.Chain;

/// <summary>
/// The hash chain over the PostgreSQL log: sealed after the fact, verified, and every kind of tampering caught, both by the
/// check inside the database (inProcess false, what `steller ledger verify` does on PostgreSQL) and by the event-by-event
/// recomputation every other backend gets (inProcess true).
/// </summary>
public sealed class LedgerChainTests
{
    private sealed class Harness(TestDatabase db) : IAsyncDisposable
    {
        public TestDatabase Db { get; } = db;
        public PostgresEventStore Store { get; } = db.CreateEventStore();
        public ChainStore Chain { get; } = new(db.DataSource);
        public IChainLog Log { get; } = new PostgresChainLog(db.DataSource);
        public ChainVerifier Verifier => new(Log, Chain);

        public ChainSealer Sealer(LogTail? tail = null) => new(Log, Chain, tail ?? new LogTail(Store), Store,
            new Infrastructure.Configuration.ProjectionSettings(true, 100, 1000, RetryDelayMilliseconds: 20), NullLogger<ChainSealer>.Instance);

        public static async Task<Harness> Create(string purpose) => new(await TestDatabase.Create(purpose));

        /// <summary>A small ledger: deposits, a hold captured, a transfer (real wallet events).</summary>
        public async Task WriteLedger()
        {
            var w = new WalletWriter(Store);
            await w.Open("p1", "EUR");
            await w.Deposit("p1", "EUR", 100_00);
            await w.Open("p2", "EUR");
            await w.Deposit("p2", "EUR", 7_00);
            await w.Hold("p1", "EUR", "h1", 30_00, orderId: "o-1");
            await w.Capture("p1", "EUR", "h1", 30_00);
            await w.Transfer("p1", "p2", "EUR", 15_00);
            await w.Deposit("p2", "EUR", 2_00);
        }

        /// <summary>The log position of one stored event, as verify prints it.</summary>
        public async Task<string> PositionOf(string stream, long revision)
        {
            await using var conn = await Db.DataSource.OpenConnectionAsync();
            var (xid, position) = await conn.QuerySingleAsync<(string, long)>(
                "select transaction_id::text, position from es.events where stream_id = @stream and revision = @revision", new { stream, revision });
            return new LogPosition(ulong.Parse(xid), (ulong)position).ToString();
        }

        public async Task<int> Sql(string sql, object? args = null)
        {
            await using var conn = await Db.DataSource.OpenConnectionAsync();
            return await conn.ExecuteAsync(sql, args);
        }

        public ValueTask DisposeAsync() => Db.DisposeAsync();
    }

    private static async Task<Harness> SealedLedger(string purpose)
    {
        var h = await Harness.Create(purpose);
        await h.WriteLedger();
        (await h.Sealer().SealAvailable(CancellationToken.None)).Should().Be(await h.Store.CountAfter(LogPosition.Start));
        return h;
    }

    [Test, CancelAfter(120_000)]
    public async Task an_untouched_log_verifies_and_the_recomputed_head_is_the_sealed_head([Values(false, true)] bool inProcess)
    {
        await using var h = await SealedLedger("chainintact");
        var count = await h.Store.CountAfter(LogPosition.Start);

        var result = await h.Verifier.Verify(inProcess: inProcess);

        result.Intact.Should().BeTrue(result.Break?.Message);
        result.EventsChecked.Should().Be(count);
        result.Unsealed.Should().Be(0);
        var head = (await h.Chain.Head(default))!;
        result.Sequence.Should().Be(head.Sequence).And.Be(count);
        result.Position.Should().Be(head.Position.ToString());
        result.Hash.Should().Be(head.HashHex);
    }

    [Test, CancelAfter(120_000)]
    public async Task an_amount_edited_in_one_event_row_with_sql_breaks_the_chain_at_that_event([Values(false, true)] bool inProcess)
    {
        await using var h = await SealedLedger("chainedit");
        var position = await h.PositionOf("wallet-p2-EUR", 1); // the 7.00 deposit

        var edited = await h.Sql("""
            update es.events set data = replace(data::text, '700', '70000')::json
            where stream_id = 'wallet-p2-EUR' and revision = 1 and data::text like '%700%'
            """);
        edited.Should().Be(1);

        var result = await h.Verifier.Verify(inProcess: inProcess);

        result.Intact.Should().BeFalse();
        result.Break!.Kind.Should().Be(ChainBreakKinds.Changed);
        result.Break.Position.Should().Be(position);
        result.Break.Message.Should().Contain(position).And.Contain("wallet-p2-EUR");
        result.Sequence.Should().Be(result.Break.Sequence - 1, "everything before the edited event is intact");
    }

    [Test, CancelAfter(120_000)]
    public async Task an_edited_recorded_at_or_metadata_is_caught_as_well([Values(false, true)] bool inProcess)
    {
        await using var h = await SealedLedger("chainmeta");
        var time = await h.PositionOf("wallet-p1-EUR", 2);
        await h.Sql("update es.events set recorded_at = recorded_at + interval '1 microsecond' where stream_id = 'wallet-p1-EUR' and revision = 2");
        (await h.Verifier.Verify(inProcess: inProcess)).Break!.Position.Should().Be(time);

        await using var h2 = await SealedLedger("chainmeta2");
        var actor = await h2.PositionOf("wallet-p1-EUR", 1);
        await h2.Sql("update es.events set metadata = replace(metadata::text, '\"test\"', '\"someone\"')::json where stream_id = 'wallet-p1-EUR' and revision = 1");
        (await h2.Verifier.Verify(inProcess: inProcess)).Break!.Position.Should().Be(actor);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_deleted_event_row_breaks_the_chain_at_its_position([Values(false, true)] bool inProcess)
    {
        await using var h = await SealedLedger("chaindelete");
        var position = await h.PositionOf("wallet-p1-EUR", 3);

        (await h.Sql("delete from es.events where stream_id = 'wallet-p1-EUR' and revision = 3")).Should().Be(1);

        var result = await h.Verifier.Verify(inProcess: inProcess);

        result.Intact.Should().BeFalse();
        result.Break!.Kind.Should().Be(ChainBreakKinds.Missing);
        result.Break.Position.Should().Be(position);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_forged_event_inserted_into_the_sealed_log_breaks_the_chain_at_its_position([Values(false, true)] bool inProcess)
    {
        await using var h = await SealedLedger("chainforge");
        // A row slipped in among the sealed ones: the transaction id of an early event, a position after it.
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        var (xid, position) = await conn.QuerySingleAsync<(string, long)>(
            "select transaction_id::text, position from es.events where stream_id = 'wallet-p2-EUR' and revision = 0");
        var forgedPosition = position + 1_000_000;
        await conn.ExecuteAsync("""
            insert into es.events (position, transaction_id, stream_id, revision, event_id, event_type, data, metadata, recorded_at)
            overriding system value
            select @forgedPosition, @xid::xid8, 'wallet-p9-EUR', 0, gen_random_uuid(), event_type, data, metadata, recorded_at
            from es.events where stream_id = 'wallet-p2-EUR' and revision = 1
            """, new { forgedPosition, xid });

        var result = await h.Verifier.Verify(inProcess: inProcess);

        result.Intact.Should().BeFalse();
        result.Break!.Kind.Should().Be(ChainBreakKinds.Inserted);
        result.Break.Position.Should().Be(new LogPosition(ulong.Parse(xid), (ulong)forgedPosition).ToString());
    }

    [Test, CancelAfter(120_000)]
    public async Task a_log_rewritten_and_sealed_again_is_caught_by_the_head_hash_written_down_before([Values(false, true)] bool inProcess)
    {
        await using var h = await SealedLedger("chainreseal");
        var written = (await h.Chain.Head(default))!;
        await h.Sql("update es.events set data = replace(data::text, '700', '70000')::json where stream_id = 'wallet-p2-EUR' and revision = 1");
        await h.Sql("truncate es.chain");
        await h.Sealer().SealAvailable(CancellationToken.None); // the forger seals the edited log again

        (await h.Verifier.Verify(inProcess: inProcess)).Intact.Should().BeTrue("the chain table alone agrees with the rewritten log");
        var result = await h.Verifier.Verify(inProcess: inProcess, expected: new ExpectedLink(written.Position, written.HashHex));

        result.Intact.Should().BeFalse();
        result.Break!.Kind.Should().Be(ChainBreakKinds.Unexpected);
        result.Break.Position.Should().Be(written.Position.ToString());
        (await h.Verifier.Verify(inProcess: inProcess, expected: new ExpectedLink(written.Position, (await h.Chain.Head(default))!.HashHex))).Intact.Should().BeTrue();
    }

    [Test, CancelAfter(120_000)]
    public async Task verify_from_a_position_trusts_the_chain_before_it_and_still_finds_a_later_break([Values(false, true)] bool inProcess)
    {
        await using var h = await SealedLedger("chainfrom");
        var early = await h.PositionOf("wallet-p1-EUR", 1);
        var late = await h.PositionOf("wallet-p2-EUR", 3);
        await h.Sql("update es.events set data = replace(data::text, '1000', '1001')::json where stream_id = 'wallet-p1-EUR' and revision = 1");
        await h.Sql("update es.events set data = replace(data::text, '200', '201')::json where stream_id = 'wallet-p2-EUR' and revision = 3");
        LogPosition.TryParse(late, out var from).Should().BeTrue();

        var all = await h.Verifier.Verify(inProcess: inProcess);
        var fromLate = await h.Verifier.Verify(from, inProcess: inProcess);

        all.Break!.Position.Should().Be(early);
        fromLate.Break!.Position.Should().Be(late);
        fromLate.EventsChecked.Should().Be(0);
    }

    [Test, CancelAfter(180_000)]
    public async Task two_sealers_following_the_log_seal_every_event_once_while_appends_go_on()
    {
        await using var h = await Harness.Create("chainlive");
        var tail = new LogTail(h.Store);
        using var stop = new CancellationTokenSource();
        var a = h.Sealer(tail);
        var b = h.Sealer(new LogTail(h.Store)); // another node
        await a.StartAsync(stop.Token);
        await b.StartAsync(stop.Token);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 150; i++)
                    await h.Store.Append($"live-{w}", ExpectedRevision.Any, [Events.Make("test.counted.v1", $$"""{"n":{{i}}}""")]);
            })));
            await Eventually.True(async () => (await h.Chain.Head(default))?.Sequence == 600, TimeSpan.FromSeconds(60), "every event sealed");
            ChainMetrics.LagEvents.Value.Should().Be(0);
        }
        finally
        {
            await stop.CancelAsync();
            await a.StopAsync(CancellationToken.None);
            await b.StopAsync(CancellationToken.None);
            await tail.DisposeAsync();
        }
        var result = await h.Verifier.Verify();
        result.Intact.Should().BeTrue(result.Break?.Message);
        result.EventsChecked.Should().Be(600);
        (await h.Db.Scalar<long>("select count(distinct (commit_position, prepare_position)) from es.chain")).Should().Be(600);
    }

    [Test]
    public void the_canonical_bytes_are_the_documented_length_prefixed_fields()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var entry = new ChainEntry(new LogPosition(7, 9), "wallet-p1-EUR", 3, id, "wallet.deposited.v1",
            Encoding.UTF8.GetBytes("""{"amount":700}"""), Encoding.UTF8.GetBytes("""{"actor":"é"}"""), 1_700_000_000_123_456);

        var expected = new List<byte>();
        void Text(string s) { var b = Encoding.UTF8.GetBytes(s); Int((uint)b.Length); expected.AddRange(b); }
        void Int(uint n) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, n); expected.AddRange(b); }
        void Long(long n) { var b = new byte[8]; BinaryPrimitives.WriteInt64BigEndian(b, n); expected.AddRange(b); }
        Text("wallet.deposited.v1");
        Text("wallet-p1-EUR");
        Long(3);
        expected.AddRange(Convert.FromHexString("00112233445566778899aabbccddeeff"));
        Text("""{"amount":700}""");
        Text("""{"actor":"é"}""");
        Long(1_700_000_000_123_456);

        ChainHasher.Canonical(entry).Should().Equal(expected);
        var hash = new byte[32];
        new ChainHasher().Next(ChainHasher.Genesis, entry, hash);
        hash.Should().Equal(SHA256.HashData(new byte[32].Concat(expected).ToArray()));
    }
}
