using System.Globalization;

namespace Steller.Infrastructure.EventStoreDb;

/// <summary>
/// A parsed single-node EventStoreDB connection string:
/// <c>esdb://[user:password@]host[:port][?tls=true|false&amp;tlsVerifyCert=true|false&amp;defaultDeadline=ms&amp;connectionName=name]</c>.
/// TLS is on unless <c>tls=false</c> (as in the official clients); the port defaults to 2113.
/// Cluster discovery (<c>esdb+discover://</c>, several hosts) is not supported: give one node.
/// </summary>
public sealed record EventStoreDbConnectionString
{
    public const int DefaultPort = 2113;

    public required string Host { get; init; }
    public int Port { get; init; } = DefaultPort;
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
        "keepAliveInterval", "keepAliveTimeout"];

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
        if (scheme == "esdb+discover") { error =
            "esdb+discover:// (cluster discovery) is not supported; give one node as esdb://host:port"; return false; }
        if (scheme != "esdb") { error = $"the scheme is '{scheme}://', expected esdb://"; return false; }

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

        if (rest.Contains(',')) { error = "several hosts (a cluster) are not supported; give one node"; return false; }
        if (rest.Length == 0) { error = "the host is missing"; return false; }

        string host;
        var port = DefaultPort;
        string? portText = null;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0) { error = "an IPv6 host lacks its closing ']'"; return false; }
            host = rest[1..close];
            var after = rest[(close + 1)..];
            if (after.Length > 0)
            {
                if (!after.StartsWith(':')) { error = $"unexpected '{after}' after the host"; return false; }
                portText = after[1..];
            }
        }
        else
        {
            var colon = rest.IndexOf(':');
            host = colon >= 0 ? rest[..colon] : rest;
            if (colon >= 0) portText = rest[(colon + 1)..];
        }
        if (host.Length == 0) { error = "the host is missing"; return false; }
        if (Uri.CheckHostName(host) == UriHostNameType.Unknown) { error = $"'{host}' is not a valid host name"; return false; }
        if (portText is not null
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            error = $"the port '{portText}' is not a number from 1 to 65535";
            return false;
        }

        bool tls = true, verify = true;
        string? name = null;
        TimeSpan? deadline = null;
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
                case "nodePreference" or "keepAliveInterval" or "keepAliveTimeout":
                    break; // accepted for compatibility with official connection strings; a single node needs none
                default:
                    error = $"unknown option '{key}' (known: {string.Join(", ", KnownKeys)})";
                    return false;
            }
        }

        result = new EventStoreDbConnectionString
        {
            Host = host, Port = port, Tls = tls, TlsVerifyCert = verify, Username = user, Password = password,
            ConnectionName = name, DefaultDeadline = deadline,
        };
        return true;
    }

    /// <summary>The connection string without its password, for messages and logs.</summary>
    public override string ToString()
    {
        var auth = Username is null ? "" : $"{Uri.EscapeDataString(Username)}:***@";
        var host = Host.Contains(':') ? $"[{Host}]" : Host;
        return $"esdb://{auth}{host}:{Port}?tls={(Tls ? "true" : "false")}";
    }

    private static string Redact(string text)
    {
        var at = text.LastIndexOf('@');
        return at < 0 ? text : "***@" + text[(at + 1)..];
    }
}
