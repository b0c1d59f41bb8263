namespace Steller.Application.EventStore;

/// <summary>
/// A place in the global log. Opaque to callers, totally ordered.
/// Both adapters fit in two 64-bit numbers: PostgreSQL uses (transaction id, sequence),
/// EventStoreDB uses (commit, prepare). Compare lexicographically.
/// </summary>
public readonly record struct LogPosition(ulong Commit, ulong Prepare) : IComparable<LogPosition>
{
    /// <summary>Before the first event: reading "after Start" reads everything.</summary>
    public static readonly LogPosition Start = new(0, 0);

    public int CompareTo(LogPosition other)
    {
        var c = Commit.CompareTo(other.Commit);
        return c != 0 ? c : Prepare.CompareTo(other.Prepare);
    }

    public static bool operator <(LogPosition a, LogPosition b) => a.CompareTo(b) < 0;
    public static bool operator >(LogPosition a, LogPosition b) => a.CompareTo(b) > 0;
    public static bool operator <=(LogPosition a, LogPosition b) => a.CompareTo(b) <= 0;
    public static bool operator >=(LogPosition a, LogPosition b) => a.CompareTo(b) >= 0;

    /// <summary>Stable text form, for checkpoints and cursors: "commit/prepare".</summary>
    public override string ToString() => $"{Commit}/{Prepare}";

    public static bool TryParse(string? text, out LogPosition position)
    {
        position = Start;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Split('/');
        if (parts.Length != 2 || !ulong.TryParse(parts[0], out var c) || !ulong.TryParse(parts[1], out var p)) return false;
        position = new LogPosition(c, p);
        return true;
    }
}
