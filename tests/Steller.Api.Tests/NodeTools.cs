using System.Diagnostics;
using FluentAssertions;
using NUnit.Framework;

namespace Steller.Api.Tests;

/// <summary>
/// The npm tools in tests/tools (an RFC 9421 signer, a Standard Webhooks verifier): third-party implementations the tests
/// drive through node. A test that needs one is ignored when node or tests/tools/node_modules is missing.
/// </summary>
public static class NodeTools
{
    public static string Directory => Path.Combine(RepoRoot(), "tests", "tools");

    /// <summary>Ignores the test unless the npm <paramref name="package"/> is installed in tests/tools.</summary>
    public static void Require(string package)
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", package)))
            Assert.Ignore("node or tests/tools/node_modules is missing: ./test.sh runs `npm ci --prefix tests/tools` when node is installed.");
    }

    /// <summary>Runs tests/tools/<paramref name="script"/> with <paramref name="input"/> on stdin; its stdout (exit code 0 asserted).</summary>
    public static async Task<string> Run(string script, string input)
    {
        var info = new ProcessStartInfo("node", [Path.Combine(Directory, script)])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Directory,
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
        return stdout;
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Steller.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Steller.sln not found above the test assembly.");
    }
}
