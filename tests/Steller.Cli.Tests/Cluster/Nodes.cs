using System.Globalization;
using System.Text.RegularExpressions;
using Steller.Testing;

namespace Steller.Cli.Tests.Cluster;

/// <summary>What the cluster tests share: the environment of nodes on one database, and reading a node's metrics.</summary>
public static class Nodes
{
    public static Dictionary<string, string?> Env(TestDatabase db, IDictionary<string, string?>? extra = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Security__MasterKey"] = MasterKey,
            ["STELLER__Jobs__CheckinIntervalMilliseconds"] = "1000",
            ["STELLER__Jobs__CheckinMisfireMilliseconds"] = "1000",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) env[k] = v;
        return env;
    }

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
