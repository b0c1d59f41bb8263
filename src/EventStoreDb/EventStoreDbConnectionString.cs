using System.Globalization;

namespace Steller.Infrastructure.EventStoreDb;

/// <summary>The node preference of reads (writes always go to the leader).</summary>
public enum NodePreference { Leader, Follower, Random, ReadOnlyReplica }

/// <summary>A node's gRPC endpoint (host and port).</summary>
public sealed record EventStoreDbEndpoint(string Host, int Port)
{
    public override string ToString() => $"{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}";
}

/// <summary>
/// A parsed EventStoreDB connection string, as the official clients read it:
/// <c>esdb://[user:password@]host[:port][,host[:port]...][?options]</c> or <c>esdb+discover://[user:password@]host[:port][?options]</c>.
/// One host with <c>esdb://</c> is a single node; several hosts, or <c>esdb+discover://</c>, are gossip seeds of a cluster:
/// the leader (and the node for reads, by <c>nodePreference</c>) is found through the gossip service.
/// Options: <c>tls</c>, <c>tlsVerifyCert</c>, <c>defaultDeadline</c> (ms), <c>connectionName</c>, <c>nodePreference</c>
/// (leader|follower|random|readOnlyReplica), <c>gossipTimeout</c> (ms), <c>discoveryInterval</c> (ms), <c>maxDiscoverAttempts</c>.
/// TLS is on unless <c>tls=false</c> (as in the official clients); the port defaults to 2113.
/// </summary>
public sealed record EventStoreDbConnectionString
{
    public const int DefaultPort = 2113;

    /// <summary>The first (or only) host.</summary>
    public required string Host { get; init; }
    public int Port { get; init; } = DefaultPort;

    /// <summary>Every host given, in order (the gossip seeds of a cluster); one for a single node.</summary>
    public IReadOnlyList<EventStoreDbEndpoint> Hosts
    {
        get => hosts ?? [new EventStoreDbEndpoint(Host, Port)];
        init => hosts = value;
    }
    private readonly IReadOnlyList<EventStoreDbEndpoint>? hosts;

    /// <summary><c>esdb+discover://</c>: the host is a gossip seed (e.g. a DNS name of every node), not the node to use.</summary>
    public bool Discover { get; init; }

    /// <summary>A cluster: the nodes are found through gossip (several hosts, or <c>esdb+discover://</c>).</summary>
    public bool IsCluster => Discover || Hosts.Count > 1;

    /// <summary>Where reads and subscriptions go in a cluster (default the leader, so reads see every acknowledged write).</summary>
    public NodePreference NodePreference { get; init; } = NodePreference.Leader;

    /// <summary>Deadline of one gossip read (official default 5 s).</summary>
    public TimeSpan GossipTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Wait between rounds of discovery over every seed (official default 100 ms).</summary>
    public TimeSpan DiscoveryInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Rounds of discovery before giving up (official default 10).</summary>
    public int MaxDiscoverAttempts { get; init; } = 10;
    public bool Tls { get; init; } = true;
    public bool TlsVerifyCert { get; init; } = true;
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? ConnectionName { get; init; }
    /// <summary>Deadline of appends and reads (never of subscriptions). Null: the adapter's default.</summary>
    public TimeSpan? DefaultDeadline { get; init; }

    public bool HasCredentials => Username is not null;

    /// <summary>The HTTP/2 address the gRPC channel talks to: http:// for tls=false (h2c), https:// otherwise.</summary>
    public Uri Address => new($"{(Tls ? "https" : "http")}://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}");

    private static readonly string[] KnownKeys = ["tls", "tlsVerifyCert", "defaultDeadline", "connectionName", "nodePreference",
        "gossipTimeout", "discoveryInterval", "maxDiscoverAttempts", "keepAliveInterval", "keepAliveTimeout"];

    /// <summary>Parses or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static EventStoreDbConnectionString Parse(string? text) =>
        TryParse(text, out var result, out var error) ? result : throw new FormatException(error);

    public static bool TryParse(string? text, out EventStoreDbConnectionString result, out string error)
    {
        result = null!;
        error = "";
        if (string.IsNullOrWhiteSpace(text)) { error = "the connection string is empty"; return false; }
        text = text.Trim();

        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0) { error = $"'{Redact(text)}' does not start with esdb://"; return false; }
        var scheme = text[..schemeEnd].ToLowerInvariant();
        if (scheme != "esdb" && scheme != "esdb+discover") { error = $"the scheme is '{scheme}://', expected esdb:// or esdb+discover://"; return false; }
        var discover = scheme == "esdb+discover";

        var rest = text[(schemeEnd + 3)..];
        string? query = null;
        var q = rest.IndexOf('?');
        if (q >= 0) { query = rest[(q + 1)..]; rest = rest[..q]; }
        rest = rest.TrimEnd('/');
        if (rest.Contains('/')) { error = "a path is not allowed after the host; options go after '?'"; return false; }

        string? user = null, password = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            rest = rest[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            if (colon <= 0 || colon == userInfo.Length - 1) { error = "credentials must be given as user:password@"; return false; }
            user = Uri.UnescapeDataString(userInfo[..colon]);
            password = Uri.UnescapeDataString(userInfo[(colon + 1)..]);
        }

        if (rest.Length == 0) { error = "the host is missing"; return false; }
        var endpoints = new List<EventStoreDbEndpoint>();
        foreach (var part in rest.Split(','))
        {
            if (!TryParseEndpoint(part.Trim(), out var endpoint, out error)) return false;
            endpoints.Add(endpoint);
        }
        if (discover && endpoints.Count > 1) { error = "esdb+discover:// takes one host (a DNS name of the cluster); list nodes with esdb://a,b,c"; return false; }

        bool tls = true, verify = true;
        string? name = null;
        TimeSpan? deadline = null;
        var preference = NodePreference.Leader;
        TimeSpan gossipTimeout = TimeSpan.FromSeconds(5), discoveryInterval = TimeSpan.FromMilliseconds(100);
        var maxDiscoverAttempts = 10;
        foreach (var pair in (query ?? "").Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = eq >= 0 ? pair[..eq] : pair;
            var value = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..]) : "";
            var known = KnownKeys.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
            switch (known)
            {
                case "tls":
                    if (!bool.TryParse(value, out tls)) { error = $"tls must be true or false, got '{value}'"; return false; }
                    break;
                case "tlsVerifyCert":
                    if (!bool.TryParse(value, out verify)) { error = $"tlsVerifyCert must be true or false, got '{value}'"; return false; }
                    break;
                case "defaultDeadline":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms <= 0)
                    {
                        error = $"defaultDeadline must be a positive number of milliseconds, got '{value}'";
                        return false;
                    }
                    deadline = TimeSpan.FromMilliseconds(ms);
                    break;
                case "connectionName":
                    name = value;
                    break;
                case "nodePreference":
                    if (!Enum.TryParse(value, ignoreCase: true, out preference) || !Enum.IsDefined(preference) || value.Any(char.IsDigit))
                    {
                        error = $"nodePreference must be leader, follower, random or readOnlyReplica, got '{value}'";
                        return false;
                    }
                    break;
                case "gossipTimeout" or "discoveryInterval":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t) || t <= 0)
                    {
                        error = $"{known} must be a positive number of milliseconds, got '{value}'";
                        return false;
                    }
                    if (known == "gossipTimeout") gossipTimeout = TimeSpan.FromMilliseconds(t);
                    else discoveryInterval = TimeSpan.FromMilliseconds(t);
                    break;
                case "maxDiscoverAttempts":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out maxDiscoverAttempts) || maxDiscoverAttempts <= 0)
                    {
                        error = $"maxDiscoverAttempts must be a positive number, got '{value}'";
                        return false;
                    }
                    break;
                case "keepAliveInterval" or "keepAliveTimeout":
                    break; // accepted for compatibility with official connection strings
                default:
                    error = $"unknown option '{key}' (known: {string.Join(", ", KnownKeys)})";
                    return false;
            }
        }

        result = new EventStoreDbConnectionString
        {
            Host = endpoints[0].Host, Port = endpoints[0].Port, Hosts = endpoints, Discover = discover,
            NodePreference = preference, GossipTimeout = gossipTimeout, DiscoveryInterval = discoveryInterval,
            MaxDiscoverAttempts = maxDiscoverAttempts, Tls = tls, TlsVerifyCert = verify, Username = user, Password = password,
            ConnectionName = name, DefaultDeadline = deadline,
        };
        return true;
    }

    /// <summary>The HTTP/2 address of a node: http:// for tls=false (h2c), https:// otherwise.</summary>
    public Uri AddressOf(EventStoreDbEndpoint node) => new($"{(Tls ? "https" : "http")}://{node}");

    /// <summary>The connection string without its password, for messages and logs.</summary>
    public override string ToString()
    {
        var auth = Username is null ? "" : $"{Uri.EscapeDataString(Username)}:***@";
        var preference = NodePreference == NodePreference.Leader ? "" : $"&nodePreference={NodePreference.ToString().ToLowerInvariant()}";
        return $"{(Discover ? "esdb+discover" : "esdb")}://{auth}{string.Join(",", Hosts)}?tls={(Tls ? "true" : "false")}{preference}";
    }

    private static bool TryParseEndpoint(string text, out EventStoreDbEndpoint endpoint, out string error)
    {
        endpoint = null!;
        error = "";
        if (text.Length == 0) { error = "the host is missing"; return false; }
        string host;
        var port = DefaultPort;
        string? portText = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0) { error = "an IPv6 host lacks its closing ']'"; return false; }
            host = text[1..close];
            var after = text[(close + 1)..];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':')) { error = $"unexpected '{after}' after the host"; return false; }
                portText = after[1..];
            }
        }
        else
        {
            var colon = text.IndexOf(':');
            host = colon >= 0 ? text[..colon] : text;
            if (colon >= 0) portText = text[(colon + 1)..];
        }
        if (host.Length == 0) { error = "the host is missing"; return false; }
        if (Uri.CheckHostName(host) == UriHostNameType.Unknown) { error = $"'{host}' is not a valid host name"; return false; }
        if (portText is not null
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            error = $"the port '{portText}' is not a number from 1 to 65535";
            return false;
        }
        endpoint = new EventStoreDbEndpoint(host, port);
        return true;
    }

    private static string Redact(string text)
    {
        var at = text.LastIndexOf('@');
        return at < 0 ? text : "***@" + text[(at + 1)..];
    }
}
