using System.Globalization;

namespace Steller.Application.Time;

/// <summary>
/// A test hook, like <see cref="Faults.CrashPoints"/>: with <c>STELLER_TEST_CLOCK_FILE=&lt;path&gt;</c> set, "now" is the
/// system time plus the offset in milliseconds written in that file (no file, or no number in it: no offset). Several
/// processes started with the same path share one clock that a test moves forward by rewriting the file (the fault
/// simulation jumps it past hold and reservation expiries and the pending-order timeout). The file is read at most every
/// <see cref="RefreshMilliseconds"/>. Unset (always, outside those tests) the plain <see cref="SystemClock"/> is used.
/// </summary>
public sealed class ShiftedClock(string path) : IClock
{
    public const string Variable = "STELLER_TEST_CLOCK_FILE";
    public const int RefreshMilliseconds = 20;

    private readonly Lock gate = new();
    private long offsetMilliseconds, readAt = long.MinValue;

    /// <summary>The clock the environment asks for: shifted when <see cref="Variable"/> is set, the system clock otherwise.</summary>
    public static IClock FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } file ? new ShiftedClock(file) : new SystemClock();

    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow.AddMilliseconds(Offset());

    private long Offset()
    {
        lock (gate)
        {
            var tick = Environment.TickCount64;
            if (tick - readAt < RefreshMilliseconds) return offsetMilliseconds;
            readAt = tick;
            offsetMilliseconds = Read(path);
            return offsetMilliseconds;
        }
    }

    /// <summary>The offset the file holds (0 when it is missing or holds no number).</summary>
    public static long Read(string path)
    {
        try
        {
            return long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms) ? ms : 0;
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }
}
