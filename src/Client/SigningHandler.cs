using System.Security.Cryptography;
using System.Text;

namespace Steller.Client;

/// <summary>
/// Signs every request with RFC 9421 HTTP Message Signatures as Steller expects: <c>alg="hmac-sha256"</c>, covering
/// <c>"@method" "@request-target"</c> and, with a body, <c>"content-digest"</c> (RFC 9530 sha-256, computed here);
/// parameters <c>created</c>, <c>nonce</c> (random per request) and <c>keyid</c>. The HMAC key is the UTF-8 bytes of
/// the API secret exactly as issued.
/// </summary>
public sealed class SigningHandler : DelegatingHandler
{
    private readonly string keyId;
    private readonly byte[] key;
    private readonly TimeProvider time;

    public SigningHandler(string keyId, string secret, TimeProvider? time = null, HttpMessageHandler? inner = null)
        : base(inner ?? new HttpClientHandler())
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (keyId.Contains('"') || keyId.Contains('\\'))
            throw new ArgumentException("A key id cannot contain quotes or backslashes.", nameof(keyId));
        this.keyId = keyId;
        key = Encoding.UTF8.GetBytes(secret);
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>The label used in Signature-Input and Signature.</summary>
    public string Label { get; init; } = "sig1";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await Sign(request, cancellationToken);
        return await base.SendAsync(request, cancellationToken);
    }

    /// <summary>Adds Content-Digest (with a body), Signature-Input and Signature to <paramref name="request"/>.</summary>
    public async Task Sign(HttpRequestMessage request, CancellationToken ct = default)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        if (!uri.IsAbsoluteUri)
            throw new InvalidOperationException("Sign absolute URIs (set HttpClient.BaseAddress before this handler runs).");

        request.Headers.Remove("Signature");
        request.Headers.Remove("Signature-Input");
        var components = new List<(string Name, string Value)>
        {
            ("@method", request.Method.Method.ToUpperInvariant()),
            ("@request-target", uri.PathAndQuery),
        };
        if (request.Content is { } content)
        {
            var body = await content.ReadAsByteArrayAsync(ct);
            var digest = $"sha-256=:{Convert.ToBase64String(SHA256.HashData(body))}:";
            content.Headers.Remove("Content-Digest");
            content.Headers.TryAddWithoutValidation("Content-Digest", digest);
            if (body.Length > 0 || content.Headers.ContentLength is null) components.Add(("content-digest", digest));
        }

        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var parameters = $"({string.Join(' ', components.Select(c => $"\"{c.Name}\""))});created={created}"
            + $";keyid=\"{keyId}\";nonce=\"{nonce}\";alg=\"hmac-sha256\"";
        var signatureBase = string.Concat(components.Select(c => $"\"{c.Name}\": {c.Value}\n")) + $"\"@signature-params\": {parameters}";
        var signature = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(signatureBase));

        request.Headers.TryAddWithoutValidation("Signature-Input", $"{Label}={parameters}");
        request.Headers.TryAddWithoutValidation("Signature", $"{Label}=:{Convert.ToBase64String(signature)}:");
    }
}
