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
    public static string Tools => Path.Combine(RepoRoot(), "tests", "tools");

    public static void RequireTools()
    {
        if (!Directory.Exists(Path.Combine(Tools, "node_modules", "http-message-signatures")))
            Assert.Ignore("node or tests/tools/node_modules is missing: ./test.sh runs `npm ci --prefix tests/tools` when node is installed.");
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
    public static async Task<Dictionary<string, string>> Sign(string input)
    {
        var info = new ProcessStartInfo("node", [Path.Combine(Tools, "sign-request.mjs")])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Tools,
        };
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception) { Assert.Ignore("node is not installed."); throw; }
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(0, stderr);
        return JsonSerializer.Deserialize<Dictionary<string, string>>(stdout)!;
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Steller.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Steller.sln not found above the test assembly.");
    }
}
