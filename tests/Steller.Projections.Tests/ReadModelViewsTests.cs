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
