using System.Diagnostics;

namespace Steller.Application.Faults;

/// <summary>
/// Named places where a crash would hurt most (between two halves of a move, after a vendor call and before its
/// result is recorded). Crash tests start a process with <c>STELLER_CRASH_AT=&lt;name&gt;</c>; when it reaches that
/// point it kills itself with SIGKILL, exactly like <c>kill -9</c>: no finally blocks, no flushing, no goodbye.
/// Unset (always, outside those tests) it costs one string comparison.
/// </summary>
public static class CrashPoints
{
    public const string AfterStockTransferOut = "stock-transfer-out";
    /// <summary>The vendor accepted a purchase; nothing about its answer is recorded yet.</summary>
    public const string AfterVendorSubmission = "vendor-submitted";

    private static readonly string? Armed = Environment.GetEnvironmentVariable("STELLER_CRASH_AT");

    public static void Reach(string name)
    {
        if (Armed is null || !string.Equals(Armed, name, StringComparison.Ordinal)) return;
        Console.Error.WriteLine($"steller: crash point '{name}' reached; killing this process (STELLER_CRASH_AT)");
        Process.GetCurrentProcess().Kill();
    }
}
