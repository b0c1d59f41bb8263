using Dapper;
using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;
using Steller.Projections.Orders;
using Steller.Projections.Wallets;
using Steller.Testing;

namespace Steller.Projections.Tests;

/// <summary>What analysts query is stable: a side-by-side rebuild keeps every read view's name and columns, and their grant.</summary>
public sealed class ReadModelViewsTests
{
    private static async Task<List<string>> Columns(TestDatabase db, IEnumerable<string> views)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<string>("""
            select table_name || '.' || column_name || ' ' || data_type from information_schema.columns
            where table_schema = 'read' and table_name = any(@views) order by table_name, ordinal_position
            """, new { views = views.ToArray() })).ToList();
    }

    /// <summary>Every comment on the views <paramref name="views"/> and their columns: "view: text" and "view.column: text" (null: none).</summary>
    private static async Task<List<string>> Comments(TestDatabase db, IEnumerable<string> views)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<string>("""
            select c.relname || ': ' || coalesce(obj_description(c.oid, 'pg_class'), '(none)') from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'read' and c.relname = any(@views)
            union all
            select c.relname || '.' || a.attname || ': ' || coalesce(col_description(c.oid, a.attnum), '(none)') from pg_class c
              join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
             where n.nspname = 'read' and c.relname = any(@views)
            order by 1
            """, new { views = views.ToArray() })).ToList();
    }

    /// <summary>The same read model with its shape version raised: what a deployment of new projection code looks like.</summary>
    private sealed class VersionBumped(IProjection inner) : IProjection
    {
        public string Name => inner.Name;
        public int Version => inner.Version + 1;
        public IReadOnlySet<string>? EventTypes => inner.EventTypes;
        public IReadOnlyList<string> Tables => inner.Tables;
        public string CreateTablesSql(string schema) => inner.CreateTablesSql(schema);
        public IReadOnlyList<ReadViewDoc> Docs => inner.Docs;
        public Task Apply(IReadOnlyList<Steller.Application.EventStore.RecordedEvent> events, ProjectionContext context) => inner.Apply(events, context);
        public OnPoisonEvent OnPoison => inner.OnPoison;
    }

    [Test, CancelAfter(180_000)]
    public async Task a_rebuild_after_a_version_bump_keeps_the_comments_on_every_read_view_and_column()
    {
        await using var h = await ProjectionHarness.Create("viewcomments");
        IProjection[] projections = [new LedgerProjection(), new Finance.PnlMonthlyProjection()];
        foreach (var p in projections) await h.Bookkeeping.EnsureRegistered(p, default);
        var views = projections.SelectMany(p => p.Tables).ToList();
        var before = await Comments(h.Db, views);
        before.Should().HaveCountGreaterThan(views.Count).And.NotContain(c => c.EndsWith(": (none)"), "every view and column is described")
            .And.Contain("pnl_monthly.net: sales − refunds − vendor_cost + vendor_refunds: what Steller kept; summed per month and currency, the month's movement of platform:revenue.");

        foreach (var p in projections)
        {
            var bumped = new VersionBumped(p);
            (await h.Rebuilder.Rebuild(bumped, null, default)).NewGeneration.Should().Be(2);
            (await h.Bookkeeping.GetActive(p.Name, default))!.CodeVersion.Should().Be(p.Version + 1);
        }

        (await Comments(h.Db, views)).Should().Equal(before, "the views were dropped and made again over read_v2, with their comments");
        (await h.Db.Scalar<string>("select obj_description('read.ledger_entries'::regclass, 'pg_class')")).Should().StartWith("One row per side of every posting");
    }

    [Test, CancelAfter(180_000)]
    public async Task a_rebuild_keeps_the_read_views_names_and_columns_and_an_analyst_still_reads_them()
    {
        await using var h = await ProjectionHarness.Create("viewsstable");
        IProjection[] projections = [new LedgerProjection(), new OrdersProjection()];
        foreach (var p in projections) await h.Bookkeeping.EnsureRegistered(p, default);
        var w = new WalletWriter(h.Store);
        await w.Open("s1", "EUR");
        await w.Deposit("s1", "EUR", 10_00);
        var views = projections.SelectMany(p => p.Tables).ToList();
        var before = await Columns(h.Db, views);
        before.Should().Contain("wallet_balances.posted bigint").And.Contain("orders.order_id text");
        var analyst = await new AnalystRoles(h.Db.DataSource).Grant($"analyst_{Guid.NewGuid():N}"[..24], default);

        foreach (var p in projections) (await h.Rebuilder.Rebuild(p, null, default)).NewGeneration.Should().Be(2);

        (await Columns(h.Db, views)).Should().Equal(before);
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(h.Db.ConnectionString)
            { Username = analyst.Name, Password = analyst.Password, Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        (await conn.ExecuteScalarAsync<long>("select count(*) from read.wallet_balances where account = 'wallet:s1:EUR'")).Should().Be(1);
        (await conn.ExecuteScalarAsync<long>("select count(*) from read.orders")).Should().Be(0);
        await conn.CloseAsync();
        await new AnalystRoles(h.Db.DataSource).Revoke(analyst.Name, default);
    }
}
