using System.Net;
using System.Net.Sockets;

namespace Steller.Application.Webhooks;

/// <summary>
/// Where a webhook may go. Outside the sandbox (<c>Webhooks:AllowPrivateTargets</c> false) a URL must be https and must not
/// name a private, loopback, link-local (the cloud metadata address 169.254.169.254 among them), unique-local or otherwise
/// internal address; the delivery checks every DNS answer again when it connects.
/// </summary>
public static class WebhookTargets
{
    public const int UrlMax = 2048;

    /// <summary>What is wrong with <paramref name="url"/> as a webhook target, or null.</summary>
    public static string? Problem(string url, bool allowPrivate)
    {
        if (url.Length > UrlMax) return $"at most {UrlMax} characters";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return "an absolute http(s) URL";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "no user name or password in the URL";
        if (!string.IsNullOrEmpty(uri.Fragment)) return "no fragment";
        if (allowPrivate) return null;
        if (uri.Scheme != Uri.UriSchemeHttps) return "must be https";
        var host = uri.IdnHost.TrimEnd('.');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".internal", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".local", StringComparison.OrdinalIgnoreCase))
            return "must not name a local or internal host";
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IsInternal(ip)) return "must not name a private, loopback or link-local address";
        return null;
    }

    /// <summary>True for every address a partner's webhook must not reach.</summary>
    public static bool IsInternal(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(IPAddress.Broadcast)) return true;
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = ip.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,
                100 => b[1] is >= 64 and <= 127,             // carrier-grade NAT
                169 => b[1] == 254,                           // link-local, cloud metadata
                172 => b[1] is >= 16 and <= 31,
                192 => b[1] == 168 || (b[1] == 0 && b[2] is 0 or 2) || (b[1] == 88 && b[2] == 99),
                198 => b[1] is 18 or 19 || (b[1] == 51 && b[2] == 100),
                203 => b[1] == 0 && b[2] == 113,
                >= 224 => true,                               // multicast, reserved
                _ => false,
            };
        }
        if (ip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (ip.IsIPv6LinkLocal || ip.IsIPv6SiteLocal || ip.IsIPv6Multicast || ip.IsIPv6UniqueLocal) return true;
            var b = ip.GetAddressBytes();
            if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true; // documentation
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return IsInternal(new IPAddress(b[12..16])); // NAT64
            return false;
        }
        return true;
    }
}
