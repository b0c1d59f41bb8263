using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>Runs a built Steller program (the CLI or the API) as a child process with its own environment.</summary>
public sealed class StellerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new(), stderr = new();

    private StellerProcess(string dll, IEnumerable<string> args, IDictionary<string, string?> env)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        // Only what the test sets: no STELLER__ settings leak in from the developer's shell.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("STELLER__", StringComparison.OrdinalIgnoreCase)).ToList()) info.Environment.Remove(key);
        foreach (var (k, v) in env) info.Environment[k] = v;
        process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout { get { lock (stdout) return stdout.ToString(); } }
    public string Stderr { get { lock (stderr) return stderr.ToString(); } }
    public bool HasExited => process.HasExited;
    public int ExitCode => process.ExitCode;

    public static StellerProcess Cli(IDictionary<string, string?> env, params string[] args) => new(Build("src/Cli", "steller.dll"), args, env);
    public static StellerProcess Api(IDictionary<string, string?> env, params string[] args) => new(Build("src/Api", "Steller.Api.dll"), args, env);

    /// <summary>Starts the API on 127.0.0.1 (port 0: any free one) and waits until it listens; the URL comes from its log.</summary>
    public static async Task<RunningApi> StartApi(IDictionary<string, string?> env, int port = 0)
    {
        var process = Api(env, "--urls", $"http://127.0.0.1:{port}");
        Uri? url = null;
        try
        {
            await Eventually.True(() =>
            {
                if (process.HasExited) Assert.Fail($"The API exited: {process.Stderr}");
                var m = Regex.Match(process.Stdout, @"Now listening on: (http://127\.0\.0\.1:\d+)");
                if (m.Success) url = new Uri(m.Groups[1].Value);
                return Task.FromResult(m.Success);
            }, TimeSpan.FromSeconds(120), "the API listens");
        }
        catch
        {
            process.Dispose(); // never leave a server behind a failed start
            throw;
        }
        return new RunningApi(process, url!);
    }

    public static async Task<StellerProcess> RunToEnd(StellerProcess p, TimeSpan? timeout = null)
    {
        await p.process.WaitForExitAsync(new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60)).Token);
        p.process.WaitForExit(); // flush the output readers
        return p;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, like a crash or an OOM kill.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    private bool disposed;

    /// <summary>Kills the process if it still runs; disposing twice (a test's finally after a restart that failed) is fine.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (!process.HasExited) Kill();
        process.Dispose();
    }

    /// <summary>The built output of a project, in the configuration this test assembly was built with.</summary>
    private static string Build(string project, string dll)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = here.Parent!.Name; // .../bin/<Configuration>/net10.0
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Steller.sln"))) root = root.Parent;
        var path = Path.Combine(root!.FullName, project, "bin", configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build the solution first (./test.sh does): {path} is missing.");
    }
}

public sealed record RunningApi(StellerProcess Process, Uri Url);
