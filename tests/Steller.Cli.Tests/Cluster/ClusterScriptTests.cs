using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests.Cluster;

/// <summary>
/// scripts/cluster.sh as docs/cluster.md tells a user to run it: `up` starts three nodes on the ports it is given and
/// renders the nginx and HAProxy configurations for them, `status` shows each node ready and one leader per log follower,
/// `start N` brings a killed node back, `down` leaves nothing running. On the test database (nothing provisioned), without
/// the vendor simulator, on the Release build ./test.sh made; no load balancer is needed.
/// </summary>
public sealed class ClusterScriptTests
{
    [Test, CancelAfter(420_000)]
    public async Task up_starts_three_ready_nodes_with_one_leader_per_follower_start_restarts_a_killed_one_and_down_stops_them_all()
    {
        await using var db = await TestDatabase.Create("clusterscript");
        var state = Directory.CreateTempSubdirectory("steller-cluster-").FullName;
        var ports = FreePorts(4);
        var (nodes, lb) = (ports[..3], ports[3]);
        var env = Env(db, state, nodes, lb);
        var clock = Stopwatch.StartNew();
        try
        {
            var up = await Script(env, "up");
            up.Code.Should().Be(0, $"up succeeds:\n{up.Output}");
            TestContext.Out.WriteLine($"up: {clock.Elapsed.TotalSeconds:0} s");
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
                foreach (var port in nodes)
                    await Eventually.True(async () => (await Status(http, port)) == HttpStatusCode.OK, TimeSpan.FromSeconds(90),
                        $"the node on {port} is ready");

            var haproxy = await File.ReadAllTextAsync(Path.Combine(state, "haproxy.cfg"));
            haproxy.Should().Contain($"bind 127.0.0.1:{lb}\n");
            for (var i = 0; i < 3; i++) haproxy.Should().Contain($"server node{i + 1} 127.0.0.1:{nodes[i]} check\n");
            var nginx = await File.ReadAllTextAsync(Path.Combine(state, "nginx.conf"));
            nginx.Should().Contain($"listen 127.0.0.1:{lb};");
            foreach (var port in nodes) nginx.Should().Contain($"server 127.0.0.1:{port} max_fails=1");
            nginx.Should().NotMatchRegex(@"127\.0\.0\.1:508\d", "no default port is left");
            (await File.ReadAllTextAsync(Path.Combine(state, "demo.txt"))).Should().Contain($"STELLER_BASE_URL=http://127.0.0.1:{lb}",
                "the demo credentials point at the balancer");

            (string Code, string Output) status = default;
            await Eventually.True(async () =>
            {
                var s = await Script(env, "status");
                status = (s.Code.ToString(), s.Output);
                return s.Code == 0 && s.Output.Contains("every follower has exactly one leader: yes")
                    && System.Text.RegularExpressions.Regex.IsMatch(s.Output, @"^  fulfilment-poller: steller-node-\d$",
                        System.Text.RegularExpressions.RegexOptions.Multiline) // one node runs the poller
                    && nodes.All(p => s.Output.Contains($"127.0.0.1:{p}  pid ") && s.Output.Contains("/health/ready: 200"));
            }, TimeSpan.FromSeconds(60), "status shows three ready nodes, one leader per follower and one node running the poller");
            TestContext.Out.WriteLine(status.Output);

            (await Script(env, "up")).Output.Should().Contain("already up", "a second up refuses");

            var node2 = int.Parse(await File.ReadAllTextAsync(Path.Combine(state, "node-2.pid")));
            Process.GetProcessById(node2).Kill();
            await Eventually.True(() => Task.FromResult(!Alive(node2)), TimeSpan.FromSeconds(10), "node 2 is dead");
            (await Script(env, "status")).Output.Should().Contain($"node 2  127.0.0.1:{nodes[1]}  not running");
            var start = await Script(env, "start", "2");
            start.Code.Should().Be(0, $"start 2 succeeds:\n{start.Output}");
            TestContext.Out.WriteLine($"start 2 done: {clock.Elapsed.TotalSeconds:0} s");
            (await Script(env, "status")).Output.Should().Contain($"node 2  127.0.0.1:{nodes[1]}  pid ");

            var pids = Enumerable.Range(1, 3).Select(n => int.Parse(File.ReadAllText(Path.Combine(state, $"node-{n}.pid")))).ToList();
            var down = await Script(env, "down");
            down.Code.Should().Be(0, down.Output);
            pids.Should().OnlyContain(p => !Alive(p), "down stopped every node");
            foreach (var port in nodes) Listening(port).Should().BeFalse($"nothing listens on {port} after down");
            Directory.GetFiles(state, "*.pid").Should().BeEmpty();
            TestContext.Out.WriteLine($"down done: {clock.Elapsed.TotalSeconds:0} s");
        }
        finally
        {
            await Script(env, "down");
            Directory.Delete(state, recursive: true);
        }
    }

    [Test, CancelAfter(60_000)]
    public async Task up_refuses_a_taken_port_naming_it_and_starts_nothing()
    {
        await using var db = await TestDatabase.Create("clusterscriptport", migrate: false);
        var state = Directory.CreateTempSubdirectory("steller-cluster-").FullName;
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var busy = ((IPEndPoint)taken.LocalEndpoint).Port;
        var ports = FreePorts(3);
        try
        {
            var up = await Script(Env(db, state, [ports[0], busy, ports[1]], ports[2]), "up");
            up.Code.Should().Be(1);
            up.Output.Should().Contain($"port {busy} on 127.0.0.1 is in use");
            Directory.GetFiles(state, "*.pid").Should().BeEmpty("nothing was started");
        }
        finally { Directory.Delete(state, recursive: true); }
    }

    private static Dictionary<string, string> Env(TestDatabase db, string state, int[] nodes, int lb) => new()
    {
        ["STELLER__DATABASE__CONNECTIONSTRING"] = db.ConnectionString,
        ["STELLER_CLUSTER_PORTS"] = string.Join(' ', nodes),
        ["STELLER_CLUSTER_LB_PORT"] = lb.ToString(),
        ["STELLER_CLUSTER_STATE"] = state,
        ["STELLER_CLUSTER_SKIP_BUILD"] = "1",
        ["STELLER_VENDOR_SIMULATOR"] = "0",
        ["STELLER__SECURITY__MASTERKEYFILE"] = Path.Combine(state, "master.key"),
        ["STELLER__DEMO__CREDENTIALSFILE"] = Path.Combine(state, "demo.txt"),
        ["STELLER__LOGGING__LOGLEVEL__NPGSQL"] = "Warning",
    };

    /// <summary>Runs scripts/cluster.sh from the checkout with only the given Steller settings; stdout and stderr together.</summary>
    private static async Task<(int Code, string Output)> Script(Dictionary<string, string> env, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Root() };
        info.ArgumentList.Add("scripts/cluster.sh");
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("STELLER_", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(key);
        foreach (var (k, v) in env) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await p.WaitForExitAsync(timeout.Token);
        p.WaitForExit();
        lock (output) return (p.ExitCode, output.ToString());
    }

    private static string Root()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Steller.sln"))) root = root.Parent;
        return root!.FullName;
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    private static async Task<HttpStatusCode?> Status(HttpClient http, int port)
    {
        try { return (await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).StatusCode; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return null; }
    }

    private static bool Listening(int port)
    {
        try { using var c = new TcpClient(); c.Connect(IPAddress.Loopback, port); return true; }
        catch (SocketException) { return false; }
    }

    /// <summary>Running, and not a zombie (the script that started it has exited, so its reaping may lag).</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }
}
