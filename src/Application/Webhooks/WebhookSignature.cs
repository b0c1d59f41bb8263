using System.Security.Cryptography;
using System.Text;

namespace Steller.Application.Webhooks;

/// <summary>
/// Standard Webhooks signing: <c>v1,</c> + base64 HMAC-SHA256 of <c>{webhook-id}.{webhook-timestamp}.{body}</c>, keyed with
/// the base64-decoded part of the <c>whsec_</c> secret. Several secrets (during a rotation) give space-separated entries.
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>A new secret: <c>whsec_</c> + base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static string Sign(string secret, string messageId, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    /// <summary>The <c>webhook-signature</c> header value: one entry per secret, space-separated.</summary>
    public static string Header(IEnumerable<string> secrets, string messageId, long timestamp, string body) =>
        string.Join(' ', secrets.Select(s => Sign(s, messageId, timestamp, body)));
}

/// <summary>Ids of endpoints and messages.</summary>
public static class WebhookIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string NewEndpointId() => "ep_" + Partners.RandomIds.Base32(26);

    /// <summary>
    /// The webhook-id of the message an event gives one endpoint: "msg_" + 26 base32 characters of SHA-256(event id, endpoint id).
    /// Deterministic, so a retry, a resend, a replay or a repeat after a crash carries the same id.
    /// </summary>
    public static string MessageId(Guid eventId, string endpointId) =>
        "msg_" + Base32(SHA256.HashData(Encoding.UTF8.GetBytes($"{eventId:N}\n{endpointId}")), 26);

    public static string NewTestMessageId() => "msg_" + Partners.RandomIds.Base32(26);

    private static string Base32(byte[] hash, int length)
    {
        var id = new StringBuilder(length);
        for (var bit = 0; id.Length < length; bit += 5)
        {
            var value = ((hash[bit / 8] << 8 | hash[bit / 8 + 1]) >> (11 - bit % 8)) & 31;
            id.Append(Alphabet[value]);
        }
        return id.ToString();
    }
}
