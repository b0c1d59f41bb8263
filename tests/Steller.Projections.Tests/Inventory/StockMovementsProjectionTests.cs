using System.Text;
using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Inventory;
using Steller.Infrastructure.Crypto;
using Steller.Projections.Inventory;
using Steller.Testing;

namespace Steller.Projections.Tests.Inventory;

public sealed class StockMovementsProjectionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private sealed record MovementRow(string Sku, string Location, long StreamRevision, string Kind, long OnHandDelta, long ReservedDelta,
        long OnHandAfter, long ReservedAfter, string? Reason, string Reference, string? OrderId, string? CounterpartLocation, int? VoucherCount,
        string Actor, string CorrelationId, DateTime RecordedAt, long CommitPosition, long PreparePosition, Guid EventId);

    private static async Task<List<MovementRow>> Movements(ProjectionHarness h)
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<MovementRow>("""
            select sku as Sku, location as Location, stream_revision as StreamRevision, kind as Kind, on_hand_delta as OnHandDelta,
                   reserved_delta as ReservedDelta, on_hand_after as OnHandAfter, reserved_after as ReservedAfter, reason as Reason,
                   reference as Reference, order_id as OrderId, counterpart_location as CounterpartLocation, voucher_count as VoucherCount,
                   actor as Actor, correlation_id as CorrelationId, recorded_at as RecordedAt, commit_position as CommitPosition,
                   prepare_position as PreparePosition, event_id as EventId
              from read.stock_movements order by sku, location, stream_revision
            """)).ToList();
    }

    private static SealedVoucher[] Vouchers(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => new SealedVoucher($"{prefix}-v{i}", "k1", Convert.ToBase64String(Encoding.UTF8.GetBytes($"SEALED-{prefix}-{i}")))).ToArray();

    /// <summary>Every kind, v1 and v2 names, on card-a at wh-1 (and the transfer's other half at wh-2), one event per append.</summary>
    private static async Task WriteEveryKind(StockEventWriter w)
    {
        w.Actor = "admin:alice";
        w.CorrelationId = "corr-receipt";
        await w.AppendRaw("card-a", "wh-1", "stock.received.v1", """{"receiptId":"rcpt-1","quantity":20,"unitCost":450,"currency":"EUR"}""");   // 0
        await w.Append("card-a", "wh-1", new StockReceived("rcpt-2", 3, 450, "EUR", Vouchers("rcpt-2", 3)));                                    // 1
        w.CorrelationId = null;
        await w.AppendRaw("card-a", "wh-1", "stock.adjusted.v1", """{"adjustmentId":"adj-1","quantity":-2,"reason":"damaged"}""");            // 2
        await w.Append("card-a", "wh-1", new StockAdjusted("adj-2", 1, "found"));                                                               // 3
        await w.Append("card-a", "wh-1", new StockTransferredOut("tr-1", "wh-2", 5, "EUR", null));                                              // 4
        await w.Append("card-a", "wh-2", new StockTransferredIn("tr-1", "wh-1", 5, "EUR", null));                                               // wh-2: 0
        w.Actor = "partner:p-1";
        await w.Append("card-a", "wh-1", new StockReserved("res-1", 4, "order-1", T0.AddMinutes(15), null));                                    // 5
        await w.Append("card-a", "wh-1", new StockReserved("res-2", 2, "order-2", T0.AddMinutes(15), null));                                    // 6
        await w.Append("card-a", "wh-1", new LowThresholdSet(3));                                                                               // 7: no movement
        await w.Append("card-a", "wh-1", new StockReserved("res-3", 1, "order-3", T0.AddMinutes(15), null));                                    // 8
        await w.AppendRaw("card-a", "wh-1", "stock.reservation-committed.v1", """{"reservationId":"res-1","quantity":4}""");                  // 9
        w.Actor = "system:expiry";
        await w.Append("card-a", "wh-1", new ReservationReleased("res-2", 2, "expired"));                                                       // 10
        await w.Append("card-a", "wh-1", new ReservationCommitted("res-3", 1, Vouchers("res-3", 1)));                                           // 11
    }

    [Test, CancelAfter(120_000)]
    public async Task every_kind_of_movement_gets_one_row_with_its_deltas_cause_and_running_levels_and_a_rebuild_gives_identical_rows()
    {
        await using var h = await ProjectionHarness.Create("stockmoves", batchSize: 2, rebuildBatchSize: 5);
        var projection = new StockMovementsProjection();
        var levels = new StockLevelsProjection();
        h.Start(projection);
        h.Start(levels);
        await WriteEveryKind(new StockEventWriter(h.Store) { Now = T0 });
        await h.Append(streams: 2, count: 5, prefix: "other"); // other events are ignored
        await h.CaughtUp(projection.Name);
        await h.CaughtUp(levels.Name);

        var rows = await Movements(h);
        var wh1 = rows.Where(r => r.Location == "wh-1").ToList();
        wh1.Select(r => (r.StreamRevision, r.Kind, r.OnHandDelta, r.ReservedDelta, r.OnHandAfter, r.ReservedAfter, r.Reason, r.Reference, r.OrderId, r.CounterpartLocation, r.VoucherCount))
            .Should().Equal(
                (0L, "received", 20L, 0L, 20L, 0L, (string?)null, "rcpt-1", (string?)null, (string?)null, (int?)null),
                (1L, "received", 3L, 0L, 23L, 0L, null, "rcpt-2", null, null, 3),
                (2L, "adjusted", -2L, 0L, 21L, 0L, "damaged", "adj-1", null, null, null),
                (3L, "adjusted", 1L, 0L, 22L, 0L, "found", "adj-2", null, null, null),
                (4L, "transferred_out", -5L, 0L, 17L, 0L, null, "tr-1", null, "wh-2", null),
                (5L, "reserved", 0L, 4L, 17L, 4L, null, "res-1", "order-1", null, null),
                (6L, "reserved", 0L, 2L, 17L, 6L, null, "res-2", "order-2", null, null),
                (8L, "reserved", 0L, 1L, 17L, 7L, null, "res-3", "order-3", null, null),
                (9L, "committed", -4L, -4L, 13L, 3L, null, "res-1", "order-1", null, null),
                (10L, "released", 0L, -2L, 13L, 1L, "expired", "res-2", "order-2", null, null),
                (11L, "committed", -1L, -1L, 12L, 0L, null, "res-3", "order-3", null, 1));
        rows.Where(r => r.Location == "wh-2").Select(r => (r.Kind, r.OnHandDelta, r.OnHandAfter, r.Reference, r.CounterpartLocation))
            .Should().Equal(("transferred_in", 5L, 5L, "tr-1", "wh-1"));
        wh1.Select(r => r.Actor).Distinct().Should().Equal("admin:alice", "partner:p-1", "system:expiry");
        wh1.Take(2).Should().OnlyContain(r => r.CorrelationId == "corr-receipt");
        wh1.Skip(2).Should().OnlyContain(r => r.CorrelationId.StartsWith("corr-") && r.CorrelationId != "corr-receipt");
        rows.Should().OnlyContain(r => r.RecordedAt == T0.UtcDateTime && r.CommitPosition > 0);

        // The running levels of the last movement are the levels of read.stock_levels.
        await using (var conn = await h.Db.DataSource.OpenConnectionAsync())
        {
            var stockLevels = (await conn.QueryAsync<(string Location, long OnHand, long Reserved)>(
                "select location, on_hand, reserved from read.stock_levels where sku = 'card-a' order by location")).ToList();
            var last = rows.GroupBy(r => r.Location).OrderBy(g => g.Key).Select(g => g.MaxBy(r => r.StreamRevision)!).Select(r => (r.Location, r.OnHandAfter, r.ReservedAfter));
            stockLevels.Should().Equal(last);
        }

        var result = await h.Rebuilder.Rebuild(projection, null, default);
        result.NewGeneration.Should().Be(2);
        (await Movements(h)).Should().BeEquivalentTo(rows, o => o.WithStrictOrdering());
    }

    [Test, CancelAfter(120_000)]
    public async Task no_voucher_code_sealed_or_plain_ever_reaches_read_stock_movements()
    {
        await using var h = await ProjectionHarness.Create("stockmovesvouchers", batchSize: 3);
        var projection = new StockMovementsProjection();
        h.Start(projection);

        var ring = new AesGcmKeyRing(new Dictionary<string, byte[]> { ["ring-key-7"] = new byte[AesGcmKeyRing.KeySize] }, "ring-key-7");
        var plaintexts = Enumerable.Range(0, 6).Select(i => $"PLAIN-CODE-{Guid.NewGuid():N}").ToArray();
        var sealedCodes = plaintexts.Select((p, i) =>
        {
            var id = $"voucher-secret-id-{i}";
            var s = ring.Encrypt(Encoding.UTF8.GetBytes(p), $"voucher:{id}");
            return new SealedVoucher(id, s.KeyId, Convert.ToBase64String(s.Blob));
        }).ToArray();

        var w = new StockEventWriter(h.Store);
        await w.Append("coded", "wh-1", new StockReceived("rcpt-1", 6, 100, "EUR", sealedCodes));
        await w.Append("coded", "wh-1", new StockTransferredOut("tr-1", "wh-2", 2, "EUR", sealedCodes[..2]));
        await w.Append("coded", "wh-2", new StockTransferredIn("tr-1", "wh-1", 2, "EUR", sealedCodes[..2]));
        await w.Append("coded", "wh-1", new StockReserved("res-1", 1, "order-1", DateTimeOffset.UtcNow.AddMinutes(15), null));
        await w.Append("coded", "wh-1", new ReservationCommitted("res-1", 1, sealedCodes[2..3]));
        await w.Append("coded", "wh-1", new StockAdjusted("adj-1", -1, "damaged", [sealedCodes[3].VoucherId]));
        await h.CaughtUp(projection.Name);

        var table = (await h.Db.DataSource.CreateCommand("select coalesce(string_agg(m::text, E'\\n'), '') from read.stock_movements m").ExecuteScalarAsync() as string)!;
        table.Should().Contain("rcpt-1").And.Contain("tr-1").And.Contain("res-1", "the scan reads the real rows");
        foreach (var v in sealedCodes)
        {
            table.Should().NotContain(v.Ciphertext);
            table.Should().NotContain(v.Ciphertext[..16], "not even a prefix of a sealed code");
            table.Should().NotContain(v.VoucherId);
        }
        foreach (var p in plaintexts) table.Should().NotContain(p);
        table.Should().NotContain("ring-key-7");
        (await Movements(h)).Select(r => (r.Location, r.Kind, r.VoucherCount)).Should().Equal(
            ("wh-1", "received", 6), ("wh-1", "transferred_out", 2), ("wh-1", "reserved", null), ("wh-1", "committed", 1), ("wh-1", "adjusted", 1),
            ("wh-2", "transferred_in", 2));
    }
}
