using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Orders;
using Steller.Projections.Orders;
using static Steller.Projections.Tests.Orders.OrderScenario;

namespace Steller.Projections.Tests.Orders;

/// <summary>
/// read.orders, read.order_lines and read.partner_daily_stats over the orders of <see cref="OrderScenario"/>, applied in
/// batches of 3 events (so an order's events span batches) and rebuilt in batches of 7; then the queries over them.
/// </summary>
[NonParallelizable]
public sealed class OrderReadModelTests
{
    private ProjectionHarness h = null!;
    private readonly OrdersProjection orders = new();
    private readonly PartnerDailyStatsProjection stats = new();
    private OrdersQuery query = null!;

    private sealed record OrderRow(string OrderId, string PartnerId, string ClientReference, string Status, string? Currency, long Total, long Held,
        long Captured, long Released, long Revenue, long VendorCost, long Refunded, string? RejectionCode, string? Reason, int Lines, int Units,
        int Delivered, DateTime PlacedAt, DateTime UpdatedAt, long LastRevision);

    private sealed record LineRow(string OrderId, int LineNo, string Sku, int Quantity, long FaceValue, long? UnitPrice, long? UnitCost,
        string? ProductType, string? Source, string? VendorProductId, bool NegativeMargin, string? RequestId, int Attempts, string? LastAttemptError,
        int? Delivered, int Cards, string? FailureReason);

    [OneTimeSetUp]
    public async Task Write()
    {
        h = await ProjectionHarness.Create("orderreads", batchSize: 3, rebuildBatchSize: 7);
        h.Start(orders);
        h.Start(stats);
        await new OrderScenario(h.Store).WriteAll();
        await h.Append(streams: 2, count: 4, prefix: "order"); // not order events: ignored (and "order-0" is no order's stream)
        await h.CaughtUp(orders.Name);
        await h.CaughtUp(stats.Name);
        query = new OrdersQuery(h.Db.DataSource);
    }

    [OneTimeTearDown]
    public async Task Dispose() => await h.DisposeAsync();

    private async Task<Dictionary<string, OrderRow>> Orders()
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<OrderRow>($"""
            select {Aliased("order_id, partner_id, client_reference, status, currency, total, held, captured, released, revenue, vendor_cost, refunded, "
                + "rejection_code, reason, lines, units, delivered, placed_at, updated_at, last_revision")}
              from read.orders
            """)).ToDictionary(r => r.OrderId);
    }

    private async Task<Dictionary<(string, int), LineRow>> Lines()
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<LineRow>($"""
            select {Aliased("order_id, line_no, sku, quantity, face_value, unit_price, unit_cost, product_type, source, vendor_product_id, negative_margin, "
                + "request_id, attempts, last_attempt_error, delivered, cards, failure_reason")}
              from read.order_lines
            """)).ToDictionary(r => (r.OrderId, r.LineNo));
    }

    /// <summary>"order_id, line_no" → "order_id as OrderId, line_no as LineNo", for Dapper's record constructors.</summary>
    private static string Aliased(string columns) => string.Join(", ", columns.Split(',', StringSplitOptions.TrimEntries).Select(c =>
        $"{c} as {string.Concat(c.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w[1..]))}"));

    private static DateTime Utc(DateTimeOffset at) => at.UtcDateTime;

    [Test, CancelAfter(60_000)]
    public async Task every_order_row_carries_the_partner_status_money_reason_and_last_revision_of_its_events()
    {
        var rows = await Orders();
        rows.Should().HaveCount(11);
        OrderRow Expected(string reference, string status, long total, long held, long captured, long released, long revenue, long vendorCost,
            long refunded, string? code, string? reason, int lines, int units, int delivered, DateTimeOffset placed, DateTimeOffset updated, long revision,
            string partner = Partner) =>
            new(Id(reference, partner), partner, reference, status, "EUR", total, held, captured, released, revenue, vendorCost, refunded, code, reason,
                lines, units, delivered, Utc(placed), Utc(updated), revision);

        rows[Id("r-completed")].Should().Be(Expected("r-completed", "Completed", 24_00, 24_00, 24_00, 0, 1_20, 22_80, 0, null, null, 2, 3, 3,
            At(10, 0), At(10, 0, 6), 7));
        rows[Id("r-partial")].Should().Be(Expected("r-partial", "PartiallyCompleted", 28_50, 28_50, 9_50, 19_00, 50, 9_00, 0, null, null, 1, 3, 1,
            At(23, 50), Day.AddDays(1).AddMinutes(10).AddSeconds(1), 4));
        rows[Id("r-failed")].Should().Be(Expected("r-failed", "Failed", 9_50, 9_50, 0, 9_50, 0, 0, 0, null, "vendor rejected", 1, 1, 0,
            At(11, 0), At(11, 0, 5), 4));
        rows[Id("r-rejected")].Should().Be(Expected("r-rejected", "Rejected", 0, 0, 0, 0, 0, 0, 0, "unknown_sku", "Unknown sku gift-x", 1, 1, 0,
            At(12, 0), At(12, 0), 1));
        rows[Id("r-cancelled")].Should().Be(Expected("r-cancelled", "Cancelled", 10_00, 10_00, 0, 10_00, 0, 0, 0, null, "pending timeout", 1, 2, 0,
            At(13, 0), At(13, 20), 2));
        rows[Id("r-refunded")].Should().Be(Expected("r-refunded", "Refunded", 19_00, 19_00, 19_00, 0, 1_00, 18_00, 19_00, null, null, 1, 2, 2,
            At(14, 0), At(16, 0), 6));
        rows[Id("r-part-refund")].Should().Be(Expected("r-part-refund", "PartiallyRefunded", 14_50, 14_50, 14_50, 0, 70, 13_80, 3_00, null, null, 2, 2, 2,
            At(14, 30), At(15, 30), 7));
        rows[Id("r-placed")].Should().Be(Expected("r-placed", "Placed", 8_50, 0, 0, 0, 0, 0, 0, null, null, 1, 1, 0, At(17, 0), At(17, 0), 0));
        rows[Id("r-held")].Should().Be(Expected("r-held", "FundsHeld", 9_50, 9_50, 0, 0, 0, 0, 0, null, null, 1, 1, 0, At(17, 10), At(17, 10, 1), 1));
        rows[Id("r-submitted")].Should().Be(Expected("r-submitted", "Submitted", 5_00, 5_00, 0, 0, 0, 0, 0, null, null, 1, 1, 0,
            At(17, 20), At(17, 25), 3));
        rows[Id("r-other", OtherPartner)].Should().Be(Expected("r-other", "Completed", 9_50, 9_50, 9_50, 0, 50, 9_00, 0, null, null, 1, 1, 1,
            At(10, 30), At(10, 30, 5), 4, OtherPartner));
    }

    [Test, CancelAfter(60_000)]
    public async Task every_line_row_carries_its_pricing_source_request_id_attempts_delivery_and_card_count()
    {
        var lines = await Lines();
        lines.Should().HaveCount(13);
        var o1 = Id("r-completed");
        lines[(o1, 1)].Should().Be(new LineRow(o1, 1, "gift-a", 2, 10_00, 9_50, 9_00, "giftcard", "giftcard", "bamboo-123", false,
            Order.RequestIdOf(o1, 1), 1, "vendor timeout", 2, 2, null));
        lines[(o1, 2)].Should().Be(new LineRow(o1, 2, "topup-b", 1, 5_00, 5_00, 4_80, "topup", "topup", "ding-9", false,
            Order.RequestIdOf(o1, 2), 0, null, 1, 1, null));
        var o2 = Id("r-partial");
        lines[(o2, 1)].Should().Be(new LineRow(o2, 1, "gift-a", 3, 10_00, 9_50, 9_00, "giftcard", "giftcard", "bamboo-123", false,
            Order.RequestIdOf(o2, 1), 0, null, 1, 1, "out of stock"));
        var o3 = Id("r-failed");
        lines[(o3, 1)].Should().Be(new LineRow(o3, 1, "gift-a", 1, 10_00, 9_50, 9_00, "giftcard", "giftcard", "bamboo-123", false,
            Order.RequestIdOf(o3, 1), 0, null, 0, 0, "vendor rejected"));
        var o4 = Id("r-rejected");
        lines[(o4, 1)].Should().Be(new LineRow(o4, 1, "gift-x", 1, 20_00, null, null, null, null, null, false, null, 0, null, null, 0, null));
        var o8 = Id("r-placed");
        lines[(o8, 1)].Should().Be(new LineRow(o8, 1, "gift-a", 1, 10_00, 8_50, 9_00, "giftcard", "giftcard", "bamboo-123", true, null, 0, null, null, 0, null));
        var o10 = Id("r-submitted");
        lines[(o10, 1)].Should().Be(new LineRow(o10, 1, "topup-b", 1, 5_00, 5_00, 4_80, "topup", "topup", "ding-9", false,
            Order.RequestIdOf(o10, 1), 1, "503 from vendor", null, 0, null));
    }

    [Test, CancelAfter(60_000)]
    public async Task daily_stats_count_each_order_on_its_placement_day_even_when_it_completes_after_midnight()
    {
        var day = DateOnly.FromDateTime(Day.UtcDateTime);
        var all = await query.DailyStats(null, day.AddDays(-1), day.AddDays(1));
        all.Should().HaveCount(4).And.OnlyContain(s => s.Day == day, "the partial order placed at 23:50 completed the next day but counts on its placement day");

        var p1 = (await query.DailyStats(Partner, day, day)).ToDictionary(s => s.Sku);
        p1.Keys.Should().BeEquivalentTo(new[] { "gift-a", "topup-b", "gift-x" });
        // gift-a: O1 (2 delivered), O2 (1 of 3), O3 failed, O6 refunded in full, O7 (1; 197 of its 300 refund), O8 and O9 pending.
        p1["gift-a"].Should().Be(new PartnerDailyStat(Partner, day, "gift-a", "EUR", OrdersPlaced: 7, OrdersCompleted: 4, OrdersFailed: 1,
            OrdersRejected: 0, OrdersCancelled: 0, UnitsDelivered: 6, FaceValue: 60_00, Captured: 57_00, Refunded: 20_97, PartnerSpend: 36_03,
            Revenue: 3_00, VendorCost: 54_00, Margin: 3_00, SuccessRate: 0.8m));
        // topup-b: O1, O5 cancelled, O7 (103 of its refund), O10 in flight.
        p1["topup-b"].Should().Be(new PartnerDailyStat(Partner, day, "topup-b", "EUR", 4, 2, 0, 0, 1, 2, 10_00, 10_00, 1_03, 8_97, 40, 9_60, 40, 1m));
        p1["gift-x"].Should().Be(new PartnerDailyStat(Partner, day, "gift-x", "EUR", 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, null));

        // Per partner, spend = Σ captured − Σ refunds and revenue = Σ revenue of read.orders.
        var rows = (await Orders()).Values.Where(o => o.PartnerId == Partner).ToList();
        p1.Values.Sum(s => s.PartnerSpend).Should().Be(rows.Sum(o => o.Captured - o.Refunded)).And.Be(45_00);
        p1.Values.Sum(s => s.Revenue).Should().Be(rows.Sum(o => o.Revenue)).And.Be(3_40);

        var p2 = await query.DailyStats(OtherPartner, day, day);
        p2.Should().ContainSingle().Which.Should().Be(new PartnerDailyStat(OtherPartner, day, "gift-a", "EUR", 1, 1, 0, 0, 0, 1, 10_00, 9_50, 0, 9_50,
            50, 9_00, 50, 1m));
        (await query.DailyStats(Partner, day.AddDays(1), day.AddDays(1))).Should().BeEmpty();
    }

    private async Task<Dictionary<string, List<string>>> Snapshot()
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        var snapshot = new Dictionary<string, List<string>>();
        foreach (var table in orders.Tables.Concat(stats.Tables))
            snapshot[table] = (await conn.QueryAsync<string>($"select t::text from read.{table} t order by 1")).ToList();
        return snapshot;
    }

    [Test, CancelAfter(120_000)]
    public async Task a_rebuild_in_other_batch_sizes_gives_identical_orders_lines_and_daily_stats()
    {
        var before = await Snapshot();
        before["orders"].Should().HaveCount(11);
        before["partner_daily_stats"].Should().HaveCount(4);

        (await h.Rebuilder.Rebuild(orders, null, default)).NewGeneration.Should().BeGreaterThan(1);
        (await h.Rebuilder.Rebuild(stats, null, default)).NewGeneration.Should().BeGreaterThan(1);

        var after = await Snapshot();
        after.Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
    }

    [Test, CancelAfter(60_000)]
    public async Task no_card_code_or_pin_ciphertext_reaches_any_read_model_row()
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        (await conn.ExecuteScalarAsync<long>($"select count(*) from es.events where data::text like '%{CiphertextMarker}%'"))
            .Should().Be(7, "the fulfilled events carry the sealed codes the read models must leave out");
        var tables = (await conn.QueryAsync<(string Schema, string Table)>(
            "select schemaname, tablename from pg_tables where schemaname like 'read\\_v%' order by 1, 2")).ToList();
        tables.Select(t => t.Table).Should().Contain(new[] { "orders", "order_lines", "partner_daily_stats", "partner_daily_stats_orders" });
        foreach (var (schema, table) in tables)
        {
            var rows = (await conn.QueryAsync<string>($"select t::text from {schema}.{table} t")).ToList();
            rows.Should().NotBeEmpty($"{schema}.{table} has rows to scan");
            rows.Should().NotContain(r => r.Contains(CiphertextMarker) || r.Contains("SN-"), $"{schema}.{table} keeps no card data");
        }
        (await Lines()).Values.Sum(l => l.Cards).Should().Be(9, "only the number of cards delivered is kept");
    }

    [Test, CancelAfter(60_000)]
    public async Task paging_walks_a_partners_orders_newest_first_each_exactly_once()
    {
        string[] newestFirst = ["r-partial", "r-submitted", "r-held", "r-placed", "r-part-refund", "r-refunded", "r-cancelled", "r-rejected", "r-failed", "r-completed"];
        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await query.Page(Partner, null, null, null, 3, after);
            page.Items.Should().OnlyContain(o => o.PartnerId == Partner);
            seen.AddRange(page.Items.Select(o => o.ClientReference));
            after = page.Next;
            pages++;
        } while (after is not null && pages < 10);
        seen.Should().Equal(newestFirst);
        pages.Should().Be(4);

        var first = (await query.Page(Partner, null, null, null, 1, null)).Items.Single();
        first.Should().Be(new OrderSummary(Id("r-partial"), Partner, "r-partial", "PartiallyCompleted", "EUR", 28_50, 9_50, 19_00, 50, 0, null, null,
            1, 1, Utc(At(23, 50)), Utc(Day.AddDays(1).AddMinutes(10).AddSeconds(1)), 4));
    }

    [Test, CancelAfter(60_000)]
    public async Task paging_filters_by_partner_status_and_placed_time_and_refuses_a_foreign_cursor()
    {
        async Task<string[]> References(string partner, OrderStatus? status, DateTimeOffset? from, DateTimeOffset? to) =>
            (await query.Page(partner, status, from, to, 100, null)).Items.Select(o => o.ClientReference).ToArray();

        (await References(Partner, OrderStatus.Completed, null, null)).Should().Equal("r-completed");
        (await References(Partner, OrderStatus.FundsHeld, null, null)).Should().Equal("r-held");
        (await References(Partner, null, At(13, 0), At(17, 10))).Should().Equal("r-placed", "r-part-refund", "r-refunded", "r-cancelled");
        (await References(OtherPartner, null, null, null)).Should().Equal("r-other");
        (await References("p-nobody", null, null, null)).Should().BeEmpty();
        (await query.Page(Partner, null, null, null, 100, null)).Next.Should().BeNull();

        var act = () => query.Page(Partner, null, null, null, 3, "not-a-cursor");
        await act.Should().ThrowAsync<ArgumentException>();
    }

    [Test, CancelAfter(60_000)]
    public async Task in_flight_lists_orders_holding_funds_or_submitted_not_updated_since_the_instant_oldest_first()
    {
        (await query.InFlight(At(17, 25), 10)).Should().Equal(Id("r-held"), Id("r-submitted"));
        (await query.InFlight(At(17, 24), 10)).Should().Equal(Id("r-held"));
        (await query.InFlight(At(17, 25), 1)).Should().Equal(Id("r-held"));
        (await query.InFlight(At(17, 10), 10)).Should().BeEmpty();
    }

    [Test, CancelAfter(60_000)]
    public async Task pending_since_lists_placed_or_funds_held_orders_placed_before_the_instant_oldest_first()
    {
        (await query.PendingSince(At(17, 10), 10)).Should().Equal(Id("r-placed"));
        (await query.PendingSince(Day.AddDays(2), 10)).Should().Equal(Id("r-placed"), Id("r-held"));
        (await query.PendingSince(Day.AddDays(2), 1)).Should().Equal(Id("r-placed"));
        (await query.PendingSince(At(17, 0), 10)).Should().BeEmpty();
    }
}
