using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// The append functions plan their statements once per session (migration 0026: plan_cache_mode = force_generic_plan), so
/// every generic plan must be right for any stream, a hot one of a million events included. The plans are read with
/// auto_explain (nested statements, sent to the client as notices).
/// </summary>
public sealed class AppendPlanTests
{
    [Test]
    public async Task the_append_functions_use_generic_plans_and_the_idempotency_check_probes_each_id_by_both_index_columns()
    {
        await using var db = await TestDatabase.Create("appendplans");
        await using var conn = await db.DataSource.OpenConnectionAsync();

        var settings = await db.Scalar<string>("""
            select string_agg(p.proname || ':' || array_to_string(p.proconfig, ','), ' ' order by p.proname)
              from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'es' and p.proname in ('append', 'append_many')
            """);
        settings.Should().Be("append:plan_cache_mode=force_generic_plan append_many:plan_cache_mode=force_generic_plan");

        var plans = new List<string>();
        conn.Notice += (_, e) => plans.Add(e.Notice.MessageText + "\n" + e.Notice.Detail);
        await using (var explain = new NpgsqlCommand("""
            load 'auto_explain';
            set auto_explain.log_min_duration = 0;
            set auto_explain.log_nested_statements = on;
            set auto_explain.log_level = notice;
            """, conn))
            await explain.ExecuteNonQueryAsync();

        // A stream that exists, appended to three times (the idempotency check runs on every append to an existing stream),
        // then one append repeated (the idempotent answer's own query).
        var repeated = Guid.NewGuid();
        foreach (var (expected, id) in new[] { (-1L, Guid.NewGuid()), (0L, Guid.NewGuid()), (1L, Guid.NewGuid()), (2L, repeated), (2L, repeated) })
        {
            await using var append = new NpgsqlCommand(
                "select outcome from es.append('plans-1', $1, array[$2], array['t'], array['{}'::json], array['{}'::json], array[now()])", conn);
            append.Parameters.AddWithValue(expected);
            append.Parameters.AddWithValue(id);
            await append.ExecuteScalarAsync();
        }

        var probes = plans.Where(p => p.Contains("cross join lateral", StringComparison.Ordinal)).ToList();
        probes.Should().HaveCountGreaterThanOrEqualTo(4, "the count on every append to the existing stream, and the repeat's answer");
        foreach (var plan in probes)
        {
            plan.Should().MatchRegex(@"Index (Only )?Scan using events_stream_event_id on events e[^\n]*\n\s*Index Cond: \(\(stream_id = [^)]+\) AND \(event_id = i\.id\)\)",
                "each id is one lookup in the unique index, on both its columns");
            plan.Should().NotContain("Filter: (event_id", "never a scan of the stream's index entries filtered by id");
        }
    }
}
