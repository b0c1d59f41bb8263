using System.Globalization;
using System.Text.RegularExpressions;
using Steller.Testing;

namespace Steller.Cli.Tests.Cluster;

/// <summary>What the cluster tests share: the environment of nodes on one database, and reading a node's metrics.</summary>
public static class Nodes
{
    /// <param name="node">Names the node's database sessions (Application Name), so a test can see which node holds what.</param>
    public static Dictionary<string, string?> Env(TestDatabase db, IDictionary<string, string?>? extra = null, string? node = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = node is null ? db.ConnectionString : $"{db.ConnectionString};Application Name={node}",
            ["STELLER__Security__MasterKey"] = MasterKey,
            ["STELLER__Jobs__CheckinIntervalMilliseconds"] = "1000",
            ["STELLER__Jobs__CheckinMisfireMilliseconds"] = "1000",
            ["STELLER__Logging__LogLevel__Npgsql"] = "Warning", // a test process has no appsettings.json: keep its output readable
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) env[k] = v;
        return env;
    }

    /// <summary>
    /// Which node leads each log follower (projections and process managers alike, as steller.projections lists them): the
    /// application name of the session holding its leadership advisory lock, or null when nobody does.
    /// </summary>
    public static async Task<Dictionary<string, List<string>>> Leaders(TestDatabase db)
    {
        var leaders = new Dictionary<string, List<string>>();
        await using var cmd = db.DataSource.CreateCommand("""
            select p.name, a.application_name
              from steller.projections p
              left join pg_locks l on l.locktype = 'advisory' and l.granted and l.objsubid = 2
                   and l.classid::bigint = (hashtext('steller.projection.leader')::bigint & 4294967295)
                   and l.objid::bigint = (hashtext(p.name)::bigint & 4294967295)
              left join pg_stat_activity a on a.pid = l.pid
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var name = reader.GetString(0);
            if (!leaders.TryGetValue(name, out var list)) leaders[name] = list = [];
            if (!reader.IsDBNull(1)) list.Add(reader.GetString(1));
        }
        return leaders;
    }

    /// <summary>Waits until <paramref name="node"/> alone leads every follower (at least 10 registered).</summary>
    public static Task LeadsEverything(TestDatabase db, string node, TimeSpan timeout) => Eventually.True(async () =>
    {
        var leaders = await Leaders(db);
        return leaders.Count >= 10 && leaders.Values.All(l => l.SequenceEqual([node]));
    }, timeout, $"{node} leads every follower");

    private static readonly string MasterKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>The value of a counter or gauge series on a node's /metrics (0 when the series is absent).</summary>
    public static async Task<double> Metric(Uri node, string series)
    {
        using var http = new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync("/metrics");
        var m = Regex.Match(text, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}
