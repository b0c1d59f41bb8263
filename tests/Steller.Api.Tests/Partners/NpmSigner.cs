using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;

namespace Steller.Api.Tests.Partners;

/// <summary>
/// Signs requests with the npm package http-message-signatures (tests/tools/sign-request.mjs): an RFC 9421 implementation
/// that is not ours. Tests that use it are ignored when node or tests/tools/node_modules is missing.
/// </summary>
public static class NpmSigner
{
    public static void RequireTools()
    {
        NodeTools.Require("http-message-signatures");
    }

    /// <summary>A request to <paramref name="url"/> signed by the npm library (body JSON when given, with its Content-Digest).</summary>
    public static async Task<HttpRequestMessage> Signed(string method, string url, string keyId, string secret, string? body = null,
        string label = "sig")
    {
        var headers = await Sign(JsonSerializer.Serialize(new { method, url, body, keyId, secret, label }));
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        foreach (var (name, value) in headers)
        {
            if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase)) continue;
            if (name.Equals("content-digest", StringComparison.OrdinalIgnoreCase)) request.Content!.Headers.TryAddWithoutValidation(name, value);
            else request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    /// <summary>The headers the npm signer produces for <paramref name="input"/> (see sign-request.mjs).</summary>
    public static async Task<Dictionary<string, string>> Sign(string input) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(await NodeTools.Run("sign-request.mjs", input))!;
}
