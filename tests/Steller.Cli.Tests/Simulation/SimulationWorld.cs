using System.Globalization;
using System.Net.Http.Json;
using Steller.Application.Time;
using Steller.Cli.Tests.Cluster;
using Steller.Testing;

namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// The real processes scenarios run against, started once and shared: the vendor simulator, one PostgreSQL database and
/// <see cref="ScenarioGenerator.Nodes"/> API processes on it, whose clocks all read one offset file (<see cref="ShiftedClock"/>)
/// that <see cref="JumpClock"/> moves forward. Scenarios kill and restart nodes (same port) and drop their database sessions;
/// <see cref="Heal"/> brings every node back before the next scenario.
/// </summary>
public sealed class SimulationWorld : IAsyncDisposable
{
    private readonly RunningApi?[] nodes;
    private readonly Dictionary<string, string?>[] env;
    private readonly string clockFile;
    private readonly Lock gate = new();

    public SimulatorHost Simulator { get; }
    /// <summary>Where partners' webhook endpoints point (one path per endpoint).</summary>
    public SimWebhookReceiver Receiver { get; }
    public TestDatabase Db { get; }
    public Uri[] Urls { get; }
    /// <summary>Admin calls go through this client (bearer token set), with absolute URLs to one node or another.</summary>
    public HttpClient Admin { get; }
    /// <summary>The nodes' shared "now", for signing partner requests and choosing expiries.</summary>
    public TimeProvider Time { get; }

    private SimulationWorld(SimulatorHost simulator, SimWebhookReceiver receiver, TestDatabase db, string clockFile, Dictionary<string, string?>[] env,
        RunningApi?[] nodes, HttpClient admin)
    {
        Simulator = simulator;
        Receiver = receiver;
        Db = db;
        this.clockFile = clockFile;
        this.env = env;
        this.nodes = nodes;
        Urls = nodes.Select(n => n!.Url).ToArray();
        Admin = admin;
        Time = new ShiftedTime(clockFile);
    }

    /// <summary>
    /// Webhook retries compressed from hours to seconds: 7 attempts within about 8 s, more than the receiver's deliberate
    /// failures per message (<see cref="SimWebhookReceiver.MaxFailuresPerMessage"/>), so a message fails for good only if
    /// Steller loses attempts.
    /// </summary>
    public const string WebhookRetrySchedule = "0,0.2,0.5,1,1.5,2,3";

    public static async Task<SimulationWorld> Start()
    {
        var simulator = await SimulatorHost.Start("--Logging:LogLevel:Default=Warning"); // its request log would drown the run's own lines
        var db = await TestDatabase.Create("simulation");
        var clockFile = Path.Combine(Path.GetTempPath(), $"steller-sim-clock-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(clockFile, "0");
        var jumps = new JumpLog();
        var receiver = new SimWebhookReceiver(new ShiftedTime(clockFile), jumps.Recent);
        var extra = new Dictionary<string, string?>
        {
            [ShiftedClock.Variable] = clockFile,
            ["STELLER__Orders__PollIntervalMilliseconds"] = "300",
            ["STELLER__Jobs__HoldExpirySeconds"] = "1",
            ["STELLER__Jobs__ReservationExpirySeconds"] = "1",
            ["STELLER__Webhooks__AllowPrivateTargets"] = "true", // the receiver is on loopback, over http
            ["STELLER__Webhooks__PollMilliseconds"] = "100",
            ["STELLER__Webhooks__RetryScheduleSeconds"] = WebhookRetrySchedule,
            ["STELLER__Webhooks__TimeoutSeconds"] = SimWebhookReceiver.TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["STELLER__RateLimits__Nodes"] = ScenarioGenerator.Nodes.ToString(CultureInfo.InvariantCulture),
            ["STELLER__Logging__LogLevel__Default"] = "Warning",
            ["STELLER__Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information", // "Now listening on" tells StartApi the port
        };
        foreach (var (key, value) in simulator.StellerSettings()) extra["STELLER__" + key.Replace(":", "__")] = value;
        var env = Enumerable.Range(1, ScenarioGenerator.Nodes).Select(n => Nodes.Env(db, extra, NodeName(n - 1))).ToArray();
        var nodes = new RunningApi?[env.Length];
        try
        {
            nodes[0] = await StellerProcess.StartApi(env[0]); // it migrates; the others start together once it has
            var others = await Task.WhenAll(env.Skip(1).Select(e => StellerProcess.StartApi(e)));
            others.CopyTo(nodes, 1);
            var admin = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            await Cli.Tests.Admin.Authorize(admin, db);
            var world = new SimulationWorld(simulator, receiver, db, clockFile, env, nodes, admin) { jumps = jumps };
            (await admin.PostAsync(new Uri(world.Urls[0], "/admin/catalog/sync"), null)).EnsureSuccessStatusCode();
            return world;
        }
        catch
        {
            foreach (var node in nodes) node?.Process.Dispose();
            receiver.Dispose();
            await db.DisposeAsync();
            await simulator.DisposeAsync();
            throw;
        }
    }

    /// <summary>The Application Name of a node's database sessions.</summary>
    public static string NodeName(int node) => $"sim-node-{node + 1}";

    public bool IsUp(int node) { lock (gate) return nodes[node] is { Process.HasExited: false }; }

    /// <summary>SIGKILL: no shutdown, its database sessions and advisory locks die with it.</summary>
    public void Kill(int node)
    {
        RunningApi? victim;
        lock (gate) { victim = nodes[node]; nodes[node] = null; }
        victim?.Process.Dispose();
    }

    /// <summary>Starts a node that is down again, on its old port.</summary>
    public async Task Restart(int node)
    {
        if (IsUp(node)) return;
        Kill(node); // disposes an exited process
        var started = await StellerProcess.StartApi(env[node], Urls[node].Port);
        lock (gate) nodes[node] = started;
    }

    private readonly List<Task> restarts = [];

    /// <summary>Starts a node again without waiting; <see cref="Heal"/> waits for it.</summary>
    public void RestartInBackground(int node, Action started)
    {
        var restart = Task.Run(async () => { await Restart(node); started(); });
        lock (gate) restarts.Add(restart);
    }

    /// <summary>Terminates every database session of a node (its pool notices on next use and reconnects).</summary>
    public async Task<int> DropConnections(int node)
    {
        await using var cmd = Db.DataSource.CreateCommand(
            "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1) t");
        cmd.Parameters.AddWithValue(NodeName(node));
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Moves every node's clock (and <see cref="Time"/>) forward; written atomically so no reader sees a half-written file.</summary>
    public void JumpClock(TimeSpan by)
    {
        lock (gate)
        {
            var next = ShiftedClock.Read(clockFile) + (long)by.TotalMilliseconds;
            var temp = clockFile + ".next";
            File.WriteAllText(temp, next.ToString(CultureInfo.InvariantCulture));
            File.Move(temp, clockFile, overwrite: true);
            jumps.Jumped(by);
        }
    }

    private JumpLog jumps = new();

    /// <summary>The last clock jump, for the receiver's timestamp check: an attempt signed just before it arrives just after.</summary>
    private sealed class JumpLog
    {
        private long at = long.MinValue / 2, by;
        public void Jumped(TimeSpan size) { Interlocked.Exchange(ref by, (long)size.TotalMilliseconds); Interlocked.Exchange(ref at, Environment.TickCount64); }
        /// <summary>The last jump's size while it is under a minute old (real time), else zero.</summary>
        public TimeSpan Recent() => Environment.TickCount64 - Interlocked.Read(ref at) < 60_000 ? TimeSpan.FromMilliseconds(Interlocked.Read(ref by)) : TimeSpan.Zero;
    }

    /// <summary>Every node up again and the simulator's scripts cleared: the state the next scenario starts from.</summary>
    public async Task Heal()
    {
        Task[] pending;
        lock (gate) { pending = restarts.ToArray(); restarts.Clear(); }
        foreach (var restart in pending)
        {
            try { await restart; }
            catch (Exception) { /* started again below */ }
        }
        for (var i = 0; i < nodes.Length; i++) await Restart(i);
        using var response = await Simulator.Control.DeleteAsync("/control/scripts");
    }

    /// <summary>The last lines a node wrote to stderr (for a failure message).</summary>
    public string Tail(int node)
    {
        lock (gate) return nodes[node] is { } n ? string.Join("\n", n.Process.Stderr.Split('\n').TakeLast(10)) : "(down)";
    }

    public async ValueTask DisposeAsync()
    {
        // A restart still starting would otherwise put its node back after the kills below and leave it running (seen in
        // CI: an orphaned API retrying the dropped database).
        Task[] pending;
        lock (gate) pending = [.. restarts];
        try { await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(90)); } catch (Exception) { } // a failed one left nothing
        for (var i = 0; i < nodes.Length; i++) Kill(i);
        Admin.Dispose();
        Receiver.Dispose();
        await Db.DisposeAsync();
        await Simulator.DisposeAsync();
        try { File.Delete(clockFile); } catch (IOException) { }
    }

    /// <summary>The nodes' clock for the harness: the system time plus the offset file's milliseconds.</summary>
    private sealed class ShiftedTime(string file) : TimeProvider
    {
        private readonly ShiftedClock clock = new(file);
        public override DateTimeOffset GetUtcNow() => clock.UtcNow;
    }
}
