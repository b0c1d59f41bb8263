using System.Text;
using Dapper;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Api.Tests.ReadModels;

/// <summary>
/// docs/read-models.md lists every view analysts can query in schema read, with its columns, as the live catalogue has them
/// once every projection has registered. This fails when the document drifts; regenerate with
/// STELLER_UPDATE_READ_MODELS_DOC=1 ./test.sh --filter ReadModelsDocument and review the diff.
/// </summary>
public sealed class ReadModelsDocumentTests() : AdminApiFixture("readmodelsdoc")
{
    private const string Marker = "<!-- generated from the live catalogue below this line: do not edit by hand -->";

    [Test, CancelAfter(180_000)]
    public async Task the_committed_read_models_document_matches_the_live_catalogue()
    {
        await EveryProjectionRegistered();

        var generated = await Generate();
        var path = Path.Combine(NodeTools.RepoRoot(), "docs", "read-models.md");
        var committed = await File.ReadAllTextAsync(path);
        var index = committed.IndexOf(Marker, StringComparison.Ordinal);
        index.Should().BeGreaterThan(0, "docs/read-models.md keeps a hand-written part above the marker");
        var expected = committed[..(index + Marker.Length)] + "\n" + generated;
        if (Environment.GetEnvironmentVariable("STELLER_UPDATE_READ_MODELS_DOC") == "1") await File.WriteAllTextAsync(path, expected);
        else committed.Should().Be(expected,
            "docs/read-models.md must match the live catalogue (STELLER_UPDATE_READ_MODELS_DOC=1 ./test.sh --filter ReadModelsDocument regenerates it)");
    }

    [Test, CancelAfter(180_000)]
    public async Task every_view_in_schema_read_and_every_column_of_it_has_a_comment()
    {
        await EveryProjectionRegistered();
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var views = (await conn.QueryAsync<string>("""
            select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'read' and c.relkind in ('v', 'r', 'm') order by 1
            """)).ToList();
        views.Should().Contain(["pnl_monthly", "ledger_entries", "orders", "audit_runs", "admin_audit", "vendor_health"]);
        var missing = (await conn.QueryAsync<string>("""
            select 'read.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'read' and c.relkind in ('v', 'r', 'm') and coalesce(obj_description(c.oid, 'pg_class'), '') = ''
            union all
            select 'read.' || c.relname || '.' || a.attname from pg_class c join pg_namespace n on n.oid = c.relnamespace
              join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
             where n.nspname = 'read' and c.relkind in ('v', 'r', 'm') and coalesce(col_description(c.oid, a.attnum), '') = ''
            order by 1
            """)).ToList();
        missing.Should().BeEmpty("analysts read what each view and column means in psql (\\d+) and docs/read-models.md");
    }

    private async Task EveryProjectionRegistered()
    {
        var names = factory.Services.GetServices<IProjection>().Where(p => p.Tables.Count > 0).Select(p => p.Name).ToList();
        await Eventually.True(async () =>
            await db.Scalar<long>($"select count(*) from steller.projections where name in ({string.Join(", ", names.Select(n => $"'{n}'"))})")
                == names.Count, TimeSpan.FromSeconds(90), "every projection registered its views");
    }

    private async Task<string> Generate()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var columns = (await conn.QueryAsync<(string View, string Kind, string? ViewComment, string Column, string Type, string? Comment)>("""
            select c.relname, case c.relkind when 'v' then 'view' else 'table' end, obj_description(c.oid, 'pg_class'),
                   a.attname, format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where n.nspname = 'read' and c.relkind in ('v', 'r', 'm')
            order by c.relname, a.attnum
            """)).ToList();
        var text = new StringBuilder();
        foreach (var view in columns.GroupBy(c => c.View))
        {
            var first = view.First();
            text.Append("\n### read.").Append(view.Key).Append("\n\n");
            if (!string.IsNullOrWhiteSpace(first.ViewComment)) text.Append(first.ViewComment).Append("\n\n");
            text.Append("| column | type | meaning |\n| --- | --- | --- |\n");
            foreach (var c in view) text.Append($"| `{c.Column}` | {c.Type} | {(c.Comment ?? "").Replace("|", "\\|").Replace("\n", " ")} |\n");
        }
        return text.ToString();
    }
}
