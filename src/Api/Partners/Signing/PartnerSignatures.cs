using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Steller.Api.Http;
using Steller.Application.Partners.AuthenticatingRequests;
using Steller.Application.Time;
using Steller.Domain.Partners;

namespace Steller.Api.Partners.Signing;

/// <summary>
/// Verifies RFC 9421 HTTP Message Signatures on every /v1 request. <c>alg="hmac-sha256"</c> (or no alg), covered
/// components in the signer's order including <c>"@method"</c>, <c>"@request-target"</c> and, with a body,
/// <c>"content-digest"</c> (RFC 9530 sha-256, checked against the body); parameters <c>created</c>, <c>nonce</c>, <c>keyid</c>
/// required; any label. The HMAC key is the UTF-8 bytes of the API secret as issued.
/// <para>Order, so that a refused request changes nothing: shape → age → key → signature → key revoked → partner
/// suspended → IP allowlist → digest → nonce. The nonce is recorded last, only for a request that is otherwise accepted.</para>
/// <para>Rate limits (<see cref="RateLimiting.RequestRateLimits"/>): an address that spent its budget of refused requests is
/// answered 429 before any of this; every refusal is charged to its address; a request that passed every check takes one
/// token of its partner's limit (so forged or replayed requests never spend a partner's budget) and is answered 429 when
/// there is none.</para>
/// </summary>
public sealed class PartnerSignatures(RequestDelegate next, ApiKeyResolver keys, INonceLedger nonces, IApiKeyUsage usage,
    RateLimiting.RequestRateLimits rateLimits, IClock clock, ILogger<PartnerSignatures> logger)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(30);
    public const int MaxNonceLength = 128;

    public async Task Invoke(HttpContext context)
    {
        if (rateLimits.CheckAddress(context, clock.UtcNow) is { } flooded)
        {
            await flooded.ExecuteAsync(context);
            return;
        }
        Application.Partners.RequestPartnerRead.Begin(); // the partner read by the signature check serves this request's pricing
        var refusal = await Verify(context);
        if (refusal is { } r)
        {
            logger.LogInformation("Refused signed request {Method} {Path}: {Code} (key {KeyId})", context.Request.Method,
                context.Request.Path, r.Code, r.KeyId ?? "-");
            rateLimits.ChargeAddress(context, clock.UtcNow);
            await Problems.Result(r.Status, r.Code, r.Detail).ExecuteAsync(context);
            return;
        }
        var partner = AuthenticatedPartner.Of(context)!;
        if (rateLimits.AdmitPartner(context, partner.State, clock.UtcNow) is { } limited)
        {
            await limited.ExecuteAsync(context);
            return;
        }
        await next(context);
    }

    private sealed record Refusal(string Code, string Detail, string? KeyId = null, int Status = 401);

    private async Task<Refusal?> Verify(HttpContext context)
    {
        var request = context.Request;
        var inputHeader = string.Join(", ", request.Headers["Signature-Input"].Where(v => !string.IsNullOrEmpty(v)));
        var signatureHeader = string.Join(", ", request.Headers["Signature"].Where(v => !string.IsNullOrEmpty(v)));
        if (inputHeader.Length == 0 || signatureHeader.Length == 0)
            return new("signature_missing", "Partner requests are signed (RFC 9421): send Signature-Input and Signature headers.");

        // Shape: a label present in both headers, with the parameters and components we require.
        IReadOnlyList<KeyValuePair<string, object>> inputs, signatures;
        try
        {
            inputs = StructuredFields.ParseDictionary(inputHeader);
            signatures = StructuredFields.ParseDictionary(signatureHeader);
        }
        catch (FormatException e)
            { return new("signature_invalid", $"Signature-Input or Signature is not a valid structured field: {e.Message}"); }

        SfInnerList? input = null;
        byte[]? signature = null;
        foreach (var (label, member) in inputs)
        {
            var sig = signatures.FirstOrDefault(s => s.Key == label).Value;
            if (member is SfInnerList list && sig is SfItem { Value: byte[] bytes })
            {
                (input, signature) = (list, bytes);
                break;
            }
        }
        if (input is null || signature is null)
            return new("signature_invalid",
                "No signature label appears in both Signature-Input (as a component list) and Signature (as a byte sequence).");

        var parameters = input.Parameters.ToDictionary(p => p.Key, p => p.Value);
        if (parameters.GetValueOrDefault("keyid") is not string keyId || keyId.Length == 0)
            return new("signature_invalid", "The signature parameters must include keyid (a string).");
        if (parameters.GetValueOrDefault("created") is not long created)
            return new("signature_invalid", "The signature parameters must include created (an integer, seconds since the epoch).", keyId);
        if (parameters.GetValueOrDefault("nonce") is not string nonce || nonce.Length is 0 or > MaxNonceLength)
            return new(
                "signature_invalid", $"The signature parameters must include nonce (a string of 1 to {MaxNonceLength} characters).", keyId);
        if (parameters.TryGetValue("alg", out var alg) && alg is not "hmac-sha256")
            return new("signature_invalid", "The only algorithm accepted is alg=\"hmac-sha256\".", keyId);

        var components = new List<string>();
        foreach (var item in input.Items)
        {
            if (item.Value is not string name || name.Length == 0)
                return new("signature_invalid", "Covered components are quoted strings such as \"@method\".", keyId);
            if (item.Parameters.Count > 0)
                return new("signature_invalid", $"Component parameters (on \"{name}\") are not supported.", keyId);
            if (components.Contains(name))
                return new("signature_invalid", $"The component \"{name}\" is covered twice.", keyId);
            components.Add(name);
        }
        var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        foreach (var required in hasBody ? ["@method", "@request-target", "content-digest"] : new[] { "@method", "@request-target" })
            if (!components.Contains(required))
                return new(
                    "signature_invalid", $"The signature must cover "
                    + $"\"{required}\"{(required == "content-digest" ? " when the request has a body" : "")}.", keyId);

        // Age.
        var now = clock.UtcNow;
        var createdAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(created, 0, 253402300799));
        if (now - createdAt > MaxAge)
            return new(
                "signature_expired", $"The signature was created {(long)(now - createdAt).TotalSeconds} s ago; requests older than "
                + $"{(int)MaxAge.TotalSeconds} s are refused.", keyId);
        if (createdAt - now > MaxClockSkew)
            return new(
                "signature_expired", $"The signature's created time is {(long)(createdAt - now).TotalSeconds} s in the future; check the "
                + $"client's clock.", keyId);
        if (parameters.GetValueOrDefault("expires") is long expires
            && DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(expires, 0, 253402300799)) < now)
            return new("signature_expired", "The signature's expires time has passed.", keyId);

        // Key.
        var resolved = await keys.Resolve(keyId, context.RequestAborted);
        if (resolved is null) return new("key_unknown", "No API key with this keyid.", keyId);

        // Signature.
        var @base = SignatureBase(context, components, input);
        if (@base is null) return new("signature_invalid", "A covered component is missing from the request or not supported.", keyId);
        var expected = HMACSHA256.HashData(resolved.HmacKey, Encoding.UTF8.GetBytes(@base));
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
            return new("signature_invalid",
                "The signature does not verify (HMAC-SHA256 over the RFC 9421 signature base, keyed with the API secret's "
                + "UTF-8 bytes).", keyId);

        // The signer is genuine; is it still allowed in?
        if (resolved.Key.Revoked) return new("key_revoked", "This API key was revoked.", keyId);
        if (resolved.Partner.Status == PartnerStatus.Suspended) return new("partner_suspended", "The partner is suspended.", keyId);
        if (context.Connection.RemoteIpAddress is not { } address || !resolved.Partner.Allows(address))
            return new("ip_not_allowed", "Requests from this address are not on the partner's IP allowlist.", keyId);

        // Digest: the covered content-digest must match the body actually received.
        if (request.Headers.ContainsKey("Content-Digest") && await CheckDigest(context) is { } problem)
            return new("digest_mismatch", problem, keyId);

        // Last: remember the nonce (across nodes). Only an otherwise accepted request spends it.
        if (!await nonces.TryRecord(keyId, nonce, now + MaxAge + MaxClockSkew, context.RequestAborted))
            return new("nonce_reused", "This nonce was already used with this key within the last 5 minutes.", keyId);

        AuthenticatedPartner.Set(context, new AuthenticatedPartner(resolved.Partner.Id!, keyId, resolved.Partner));
        usage.Touch(resolved.Partner.Id!, keyId, now); // memory only: written coalesced every few seconds
        return null;
    }

    /// <summary>The RFC 9421 §2.5 signature base, or null when a covered component is absent or unsupported.</summary>
    public static string? SignatureBase(HttpContext context, IReadOnlyList<string> components, SfInnerList input)
    {
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : request.PathBase + request.Path
            + request.QueryString;
        var sb = new StringBuilder();
        foreach (var name in components)
        {
            string? value = name switch
            {
                "@method" => request.Method,
                "@request-target" => target,
                "@path" => target.Split('?', 2)[0],
                "@query" => target.Contains('?') ? "?" + target.Split('?', 2)[1] : "?",
                "@authority" => request.Host.Value?.ToLowerInvariant(),
                "@scheme" => request.Scheme.ToLowerInvariant(),
                "@target-uri" => $"{request.Scheme.ToLowerInvariant()}://{request.Host.Value?.ToLowerInvariant()}{target}",
                _ when name.StartsWith('@') => null,
                _ when name != name.ToLowerInvariant() => null,
                _ => request.Headers.TryGetValue(name, out var values) && values.Count > 0
                    ? string.Join(", ", values.Select(v => (v ?? "").Trim())) : null,
            };
            if (value is null) return null;
            sb.Append('"').Append(name).Append("\": ").Append(value).Append('\n');
        }
        sb.Append("\"@signature-params\": ").Append(StructuredFields.SerializeInnerList(input));
        return sb.ToString();
    }

    /// <summary>Null when Content-Digest's sha-256 matches the body; else what is wrong.</summary>
    private static async Task<string?> CheckDigest(HttpContext context)
    {
        IReadOnlyList<KeyValuePair<string, object>> digests;
        try { digests = StructuredFields.ParseDictionary(string.Join(", ", context.Request.Headers["Content-Digest"].ToArray())); }
        catch (FormatException e) { return $"Content-Digest is not a valid structured field: {e.Message}"; }
        if (digests.FirstOrDefault(d => d.Key == "sha-256").Value is not SfItem { Value: byte[] claimed })
            return "Content-Digest must carry sha-256=:base64:.";

        context.Request.EnableBuffering();
        var actual = await SHA256.HashDataAsync(context.Request.Body, context.RequestAborted);
        context.Request.Body.Position = 0;
        return CryptographicOperations.FixedTimeEquals(actual, claimed) ? null
            : "Content-Digest's sha-256 does not match the body received.";
    }
}
