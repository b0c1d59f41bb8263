using Microsoft.Extensions.Configuration;
using Steller.Infrastructure.EventStoreDb;

namespace Steller.Infrastructure.Configuration;

/// <summary>
/// Every setting Steller reads, bound from appsettings.json and STELLER__SECTION__KEY environment variables,
/// and validated once at start. A bad value stops the process with one line naming the key.
/// </summary>
public sealed record StellerSettings
{
    public required DatabaseSettings Database { get; init; }
    public required EventStoreSettings EventStore { get; init; }
    public required ProjectionSettings Projections { get; init; }
    public required HttpSettings Http { get; init; }
    public JobSettings Jobs { get; init; } = new(HoldExpirySeconds: 10);
    public OrderSettings Orders { get; init; } = new();
    public RetentionSettings Retention { get; init; } = new();
    public PartnerSettings Partners { get; init; } = new();
    public RateLimitSettings RateLimits { get; init; } = new();
    /// <summary>Snapshots:EveryEvents (0: none): see <see cref="Application.Commands.SnapshotSettings"/>.</summary>
    public Application.Commands.SnapshotSettings Snapshots { get; init; } = new();

    /// <summary>Binds and validates; throws <see cref="ConfigurationException"/> naming the first bad key.</summary>
    public static StellerSettings Load(IConfiguration config)
    {
        var db = config.GetSection("Database");
        var es = config.GetSection("EventStore");
        var pr = config.GetSection("Projections");
        var http = config.GetSection("Http");

        var connection = Required(db, "ConnectionString",
            "a PostgreSQL connection string such as 'Host=127.0.0.1;Port=55432;Database=steller;Username=steller' (./run.sh sets one up "
                + "when none is configured)");
        try { _ = new Npgsql.NpgsqlConnectionStringBuilder(connection); }
        catch (ArgumentException e) { throw Bad(db, "ConnectionString", $"a valid PostgreSQL connection string ({e.Message})"); }

        var backendText = es["Backend"] ?? "Postgres";
        if (!Enum.TryParse<EventStoreBackend>(backendText, ignoreCase: true, out var backend) || !Enum.IsDefined(backend))
            throw Bad(es, "Backend", $"one of {string.Join(", ", Enum.GetNames<EventStoreBackend>())}, got '{backendText}'");

        var eventStore = backend == EventStoreBackend.EventStoreDB
            ? LoadEventStoreDb(es)
            : new EventStoreSettings(backend, es["ConnectionString"]);

        return new StellerSettings
        {
            Database = new DatabaseSettings(connection,
                LongWriteTransactionAlertSeconds: Int(db, "LongWriteTransactionAlertSeconds", 5, 1, 86_400),
                WriteTransactionCheckSeconds: Int(db, "WriteTransactionCheckSeconds", 5, 1, 3_600)),
            EventStore = eventStore,
            Projections = new ProjectionSettings(
                Enabled: Bool(pr, "Enabled", true),
                BatchSize: Int(pr, "BatchSize", 500, 1, 100_000),
                RebuildBatchSize: Int(pr, "RebuildBatchSize", 5_000, 1, 100_000),
                RetryDelayMilliseconds: Int(pr, "RetryDelayMilliseconds", 500, 1, 60_000),
                Grouped: Bool(pr, "Grouped", true),
                IdlePollMilliseconds: Int(pr, "IdlePollMilliseconds", 3_000, 5, 60_000),
                WakeLingerMilliseconds: Int(pr, "WakeLingerMilliseconds", 3, 0, 1_000)),
            Http = new HttpSettings(MaxRequestBodyBytes: Int(http, "MaxRequestBodyBytes", 1_048_576, 1_024, 100 * 1_048_576),
                TrustedProxies: Networks(http, "TrustedProxies")),
            Jobs = new JobSettings(HoldExpirySeconds: Int(config.GetSection("Jobs"), "HoldExpirySeconds", 10, 1, 3_600),
                ReservationExpirySeconds: Int(config.GetSection("Jobs"), "ReservationExpirySeconds", 10, 1, 3_600),
                CatalogSyncMinutes: Int(config.GetSection("Jobs"), "CatalogSyncMinutes", 30, 1, 1_440),
                SchedulerName: SchedulerName(config.GetSection("Jobs")),
                CheckinIntervalMilliseconds: Int(config.GetSection("Jobs"), "CheckinIntervalMilliseconds", 5_000, 500, 600_000),
                CheckinMisfireMilliseconds: Int(config.GetSection("Jobs"), "CheckinMisfireMilliseconds", 5_000, 500, 600_000)),
            Orders = new OrderSettings(
                PollIntervalMilliseconds: Int(config.GetSection("Orders"), "PollIntervalMilliseconds", 1_000, 50, 600_000),
                PendingTimeoutSeconds: Int(config.GetSection("Orders"), "PendingTimeoutSeconds", 300, 1, 86_400),
                MaxVendorAttempts: Int(config.GetSection("Orders"), "MaxVendorAttempts", 10, 1, 1_000),
                VendorRequestsPerLine: Int(config.GetSection("Orders"), "VendorRequestsPerLine", 2, 1, 100),
                StuckAfterMinutes: Int(config.GetSection("Orders"), "StuckAfterMinutes", 30, 1, 10_080)),
            Retention = new RetentionSettings(
                VendorCallsDays: Int(config.GetSection("Retention"), "VendorCallsDays", 30, 1, 3_650),
                CatalogSyncsDays: Int(config.GetSection("Retention"), "CatalogSyncsDays", 90, 1, 3_650),
                AdminAuditDays: Int(config.GetSection("Retention"), "AdminAuditDays", 400, 1, 36_500),
                CheckoutBatchesDays: Int(config.GetSection("Retention"), "CheckoutBatchesDays", 90, 7, 3_650),
                PartnerRequestsDays: Int(config.GetSection("Retention"), "PartnerRequestsDays", 30, 1, 3_650),
                PurgeMinutes: Int(config.GetSection("Retention"), "PurgeMinutes", 60, 1, 1_440),
                PurgeSeconds: Int(config.GetSection("Retention"), "PurgeSeconds", 0, 0, 86_400)),
            Partners = LoadPartners(config.GetSection("Partners")),
            Snapshots = new Application.Commands.SnapshotSettings(EveryEvents: Int(config.GetSection("Snapshots"), "EveryEvents", 1_000, 0, 100_000_000)),
            RateLimits = new RateLimitSettings(
                RequestsPerSecond: Int(config.GetSection("RateLimits"), "RequestsPerSecond", 1_000, 1, 100_000),
                Burst: Int(config.GetSection("RateLimits"), "Burst", 2_000, 1, 1_000_000),
                Nodes: Int(config.GetSection("RateLimits"), "Nodes", 1, 1, 1_000),
                UnauthenticatedPerIpPerSecond: Int(config.GetSection("RateLimits"), "UnauthenticatedPerIpPerSecond", 20, 1, 100_000),
                UnauthenticatedPerIpBurst: Int(config.GetSection("RateLimits"), "UnauthenticatedPerIpBurst", 100, 1, 1_000_000),
                Enabled: Bool(config.GetSection("RateLimits"), "Enabled", true)),
        };
    }

    /// <summary>Partners:*: self-service key limits and how often key usage is written.</summary>
    private static PartnerSettings LoadPartners(IConfigurationSection p) => new(
        MaxActiveKeys: Int(p, "MaxActiveKeys", 5, 1, 100),
        KeyUsageFlushSeconds: Int(p, "KeyUsageFlushSeconds", 5, 1, 3_600),
        RequestLogQueueCapacity: Int(p, "RequestLogQueueCapacity", 10_000, 1, 1_000_000),
        RequestLogFlushMilliseconds: Int(p, "RequestLogFlushMilliseconds", 1_000, 10, 60_000),
        RequestLogEnabled: Bool(p, "RequestLogEnabled", true));

    /// <summary>EventStore:ConnectionString (esdb://...), EventStore:StreamPrefixes and EventStore:MaxAppendSizeBytes.</summary>
    private static EventStoreSettings LoadEventStoreDb(IConfigurationSection es)
    {
        const string example =
            "an EventStoreDB connection string such as 'esdb://127.0.0.1:2113?tls=false' or 'esdb://admin:changeit@host:2113?tls=true'";
        var text = Required(es, "ConnectionString", $"{example} (EventStore:Backend is EventStoreDB)");
        if (!EventStoreDbConnectionString.TryParse(text, out var parsed, out var error))
            throw Bad(es, "ConnectionString", $"{example}: {error}");

        // Either a list (EventStore:StreamPrefixes:0, :1, ...) or one comma-separated value.
        var prefixSection = es.GetSection("StreamPrefixes");
        var prefixes = (prefixSection.GetChildren().Any()
                ? prefixSection.GetChildren().Select(c => c.Value ?? "")
                : (prefixSection.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p.Trim()).Where(p => p.Length > 0).ToArray();
        foreach (var p in prefixes)
            if (p.StartsWith('$'))
                throw Bad(es,
                    "StreamPrefixes", $"extra stream name prefixes for Steller's log, beyond its own (e.g. 'import-'); '{p}' starts with '$', "
                    + $"which is reserved for system streams");

        var maxAppend = Int(es, "MaxAppendSizeBytes", 1_048_576, 1_024, 64 * 1_048_576);
        return new EventStoreSettings(EventStoreBackend.EventStoreDB, text)
        {
            EventStoreDb = parsed,
            StreamPrefixes = prefixes,
            MaxAppendSizeBytes = maxAppend,
        };
    }

    public static string EnvName(IConfigurationSection section, string key) =>
        "STELLER__" + $"{section.Path}:{key}".Replace(":", "__");

    private static string Required(IConfigurationSection section, string key, string expected)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
            throw new ConfigurationException($"{section.Path}:{key} (env {EnvName(section, key)}) is missing; expected {expected}.");
        return value;
    }

    private static int Int(IConfigurationSection section, string key, int fallback, int min, int max)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, out var v) && v >= min && v <= max ? v
            : throw Bad(section, key, $"a whole number from {min} to {max}, got '{text}'");
    }

    /// <summary>Jobs:SchedulerName, the cluster's name in the Quartz tables: 1 to 80 of a-z, A-Z, 0-9, '-', '_'.</summary>
    private static string SchedulerName(IConfigurationSection jobs)
    {
        var name = jobs["SchedulerName"] ?? JobSettings.DefaultSchedulerName;
        if (name.Length is < 1 or > 80 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw Bad(jobs, "SchedulerName", "1 to 80 characters of a-z, A-Z, 0-9, '-' and '_'");
        return name;
    }

    /// <summary>A comma-separated list of addresses or CIDR networks (either a list section or one value); empty when unset.</summary>
    private static IReadOnlyList<System.Net.IPNetwork> Networks(IConfigurationSection section, string key)
    {
        var list = section.GetSection(key);
        var items = (list.GetChildren().Any() ? list.GetChildren().Select(c => c.Value ?? "") : (list.Value ?? "").Split(','))
            .Select(t => t.Trim()).Where(t => t.Length > 0);
        var networks = new List<System.Net.IPNetwork>();
        foreach (var item in items)
        {
            if (System.Net.IPNetwork.TryParse(item, out var network)) networks.Add(network);
            else if (System.Net.IPAddress.TryParse(item, out var address))
                networks.Add(new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            else throw Bad(section, key, $"addresses or CIDR networks separated by commas (e.g. '10.0.0.5, 10.1.0.0/16'), got '{item}'");
        }
        return networks;
    }

    private static bool Bool(IConfigurationSection section, string key, bool fallback)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return bool.TryParse(text, out var v) ? v : throw Bad(section, key, $"true or false, got '{text}'");
    }

    private static ConfigurationException Bad(IConfigurationSection section, string key, string expected) =>
        new($"{section.Path}:{key} (env {EnvName(section, key)}) is invalid; expected {expected}.");
}

/// <param name="LongWriteTransactionAlertSeconds">
/// A write transaction open longer than this on Steller's database is logged as an alert (it holds back the log).
/// </param>
/// <param name="WriteTransactionCheckSeconds">How often pg_stat_activity is read for the oldest open write transaction.</param>
public sealed record DatabaseSettings(string ConnectionString, int LongWriteTransactionAlertSeconds = 5, int WriteTransactionCheckSeconds = 5);

/// <summary>
/// How long operational rows are kept (section "Retention"); older ones are deleted by the retention job every
/// <see cref="PurgeMinutes"/>. Events and read models are never purged. See docs/reliability.md.
/// </summary>
/// <param name="VendorCallsDays">ops.vendor_calls: one row per HTTP attempt at a vendor.</param>
/// <param name="CatalogSyncsDays">ops.vendor_catalog_syncs: one row per catalog sync (the latest per vendor is always kept).</param>
/// <param name="AdminAuditDays">steller.admin_audit: who did what through the admin API.</param>
/// <param name="CheckoutBatchesDays">
/// ops.vendor_checkout_items: which order line went out in which shared gift-card checkout (needed while the line can
/// still be followed; at least 7 days).
/// </param>
/// <param name="PurgeMinutes">How often the retention job runs.</param>
/// <param name="PurgeSeconds">
/// When above 0, how often the retention job runs, in seconds, instead of <see cref="PurgeMinutes"/>: the cluster tests run it
/// every second to watch that each Quartz firing runs on one node.
/// </param>
/// <param name="PartnerRequestsDays">steller.partner_requests: each partner's own request log (GET /v1/requests).</param>
public sealed record RetentionSettings(int VendorCallsDays = 30, int CatalogSyncsDays = 90, int AdminAuditDays = 400,
    int PurgeMinutes = 60, int CheckoutBatchesDays = 90, int PartnerRequestsDays = 30, int PurgeSeconds = 0)
{
    public TimeSpan PurgeInterval => PurgeSeconds > 0 ? TimeSpan.FromSeconds(PurgeSeconds) : TimeSpan.FromMinutes(PurgeMinutes);
}

/// <summary>Partner self-service (section "Partners").</summary>
/// <param name="MaxActiveKeys">How many unrevoked API keys a partner may hold when it creates keys itself (POST /v1/api-keys).</param>
/// <param name="KeyUsageFlushSeconds">How often each node writes the "last used at" of the keys that signed requests (coalesced).</param>
/// <param name="RequestLogQueueCapacity">Request log entries a node holds before writing; past it entries are dropped and counted.</param>
/// <param name="RequestLogFlushMilliseconds">How often a node writes its queued request log entries (one insert per batch).</param>
/// <param name="RequestLogEnabled">False: no request log is written (GET /v1/requests answers what was logged before); for the cost bench.</param>
public sealed record PartnerSettings(int MaxActiveKeys = 5, int KeyUsageFlushSeconds = 5, int RequestLogQueueCapacity = 10_000,
    int RequestLogFlushMilliseconds = 1_000, bool RequestLogEnabled = true);

/// <summary>
/// Request rate limits of the signed /v1 API (section "RateLimits"), token buckets kept in each node's memory. Every node
/// enforces its share of a limit (rate and burst divided by <see cref="Nodes"/>, rounded up), so with requests spread
/// evenly over the nodes the partner gets its limit as a whole (docs/partners.md states the overshoot).
/// </summary>
/// <param name="RequestsPerSecond">A partner's refill rate when an admin set none (PUT /admin/partners/{id}/rate-limit).</param>
/// <param name="Burst">A partner's bucket size when an admin set none.</param>
/// <param name="Nodes">How many API nodes share the traffic (each enforces 1/Nodes of every limit).</param>
/// <param name="UnauthenticatedPerIpPerSecond">Refused (401) /v1 requests allowed per client IP and second before that IP is answered 429.</param>
/// <param name="UnauthenticatedPerIpBurst">The per-IP bucket size for refused requests.</param>
/// <param name="Enabled">False: no request is limited and no RateLimit header is sent (for the cost bench; not for production).</param>
public sealed record RateLimitSettings(int RequestsPerSecond = 1_000, int Burst = 2_000, int Nodes = 1,
    int UnauthenticatedPerIpPerSecond = 20, int UnauthenticatedPerIpBurst = 100, bool Enabled = true);

public enum EventStoreBackend { Postgres, EventStoreDB }

public sealed record EventStoreSettings(EventStoreBackend Backend, string? ConnectionString)
{
    /// <summary>The parsed connection string when <see cref="Backend"/> is EventStoreDB.</summary>
    public EventStoreDbConnectionString? EventStoreDb { get; init; }
    /// <summary>EventStoreDB: stream prefixes added to Steller's log besides its own (StellerStreams.Prefixes); normally empty.</summary>
    public IReadOnlyList<string> StreamPrefixes { get; init; } = [];
    /// <summary>EventStoreDB: the server's maximum append size, checked before sending.</summary>
    public int MaxAppendSizeBytes { get; init; } = 1_048_576;
}

/// <param name="RetryDelayMilliseconds">First retry delay after a failing batch; doubles per failure up to 30 s.</param>
/// <param name="Grouped">Live, caught-up projections of a process apply each log batch together in one transaction
/// (Engine/ProjectionGroup.cs); false: each in its own.</param>
/// <param name="IdlePollMilliseconds">Longest wait of a caught-up log subscription (PostgreSQL store) between looks at the log
/// when no commit notification woke it, while the node's LISTEN connection is up; 500 ms while it is down.</param>
/// <param name="WakeLingerMilliseconds">How long a caught-up log subscription (PostgreSQL store) woken by a commit waits before it
/// reads, so the commits right behind it share the read and every follower's batch; 0: at once. 3 ms halved the webhook lag's p99
/// at 100 orders/s (docs/benchmarks.md).</param>
public sealed record ProjectionSettings(bool Enabled, int BatchSize, int RebuildBatchSize, int RetryDelayMilliseconds = 500, bool Grouped = true,
    int IdlePollMilliseconds = 3_000, int WakeLingerMilliseconds = 3);

/// <param name="TrustedProxies">
/// Reverse proxies (addresses or networks) whose X-Forwarded-For is believed: for a request from one of them, the client
/// address (request log, per-address limits, IP allow-lists) is the last address the proxy forwarded. Empty: none is, and
/// the header is ignored (a client cannot choose its own address).
/// </param>
public sealed record HttpSettings(int MaxRequestBodyBytes, IReadOnlyList<System.Net.IPNetwork>? TrustedProxies = null);

/// <param name="HoldExpirySeconds">How often expired wallet holds are looked for and released.</param>
/// <param name="ReservationExpirySeconds">How often expired stock reservations are looked for and released.</param>
/// <param name="CatalogSyncMinutes">How often every vendor's catalog is synced into ours (1 to 1440 minutes).</param>
/// <param name="SchedulerName">
/// The Quartz cluster's name (column sched_name of the quartz.qrtz_* tables): every node of one deployment uses the same one.
/// </param>
/// <param name="CheckinIntervalMilliseconds">How often a node records in quartz.qrtz_scheduler_state that it is alive.</param>
/// <param name="CheckinMisfireMilliseconds">
/// How long past a missed check-in the other nodes wait before they take a silent node for dead and recover its triggers.
/// </param>
public sealed record JobSettings(int HoldExpirySeconds, int ReservationExpirySeconds = 10, int CatalogSyncMinutes = 30,
    string SchedulerName = JobSettings.DefaultSchedulerName, int CheckinIntervalMilliseconds = 5_000, int CheckinMisfireMilliseconds = 5_000)
{
    public const string DefaultSchedulerName = "steller";
}

/// <summary>A configuration value is missing or wrong. The message names the key and what is expected.</summary>
public sealed class ConfigurationException(string message) : Exception(message);

public static class StellerConfiguration
{
    /// <summary>Adds the sources every Steller process reads, in order: appsettings(.Environment).json, STELLER__ variables.</summary>
    public static IConfigurationBuilder AddStellerSources(this IConfigurationBuilder builder, string? environment)
    {
        var baseDir = AppContext.BaseDirectory;
        builder.AddJsonFile(Path.Combine(baseDir, "appsettings.json"), optional: true);
        if (!string.IsNullOrEmpty(environment))
            builder.AddJsonFile(Path.Combine(baseDir, $"appsettings.{environment}.json"), optional: true);
        return builder.AddEnvironmentVariables("STELLER__");
    }
}

/// <summary>
/// Order fulfilment: how often orders in flight are advanced (vendor polling, retries after a vendor outage), how long
/// a placed order may wait for fulfilment to begin before it is cancelled and released, and how many failed vendor
/// attempts (each one already retried by the adapter) fail a line.
/// </summary>
/// <param name="VendorRequestsPerLine">
/// Vendor requests one order line costs on average (a checkout and its status reads): with the vendor's RequestsPerSecond
/// and the pending timeout it sets how many lines may queue at a vendor before new orders are refused (vendor_busy).
/// </param>
/// <param name="StuckAfterMinutes">An order not final whose last change is older than this is "stuck" (GET /admin/orders?stuck=true).</param>
public sealed record OrderSettings(int PollIntervalMilliseconds = 1_000, int PendingTimeoutSeconds = 300, int MaxVendorAttempts = 10,
    int VendorRequestsPerLine = 2, int StuckAfterMinutes = 30);
