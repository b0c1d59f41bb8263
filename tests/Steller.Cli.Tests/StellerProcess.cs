using System.Diagnostics;
using System.Text;

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

    public void Dispose()
    {
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
