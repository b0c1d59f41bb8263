namespace Steller.Infrastructure.Postgres;

/// <summary>
/// Strings in Unicode code-point order: PostgreSQL's <c>collate "C"</c> on UTF-8 text, the order es.append_many locks
/// stream rows in. <see cref="StringComparer.Ordinal"/> compares UTF-16 units, which differs for characters from U+E000
/// up against those beyond U+FFFF (stored as surrogates, 0xD800–0xDFFF); shifting the units as below restores
/// code-point order. Every group then locks its streams in the one order the database uses, so groups cannot deadlock.
/// </summary>
public sealed class CodePointOrder : IComparer<string>
{
    public static readonly CodePointOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var n = Math.Min(x.Length, y.Length);
        for (var i = 0; i < n; i++)
        {
            if (x[i] == y[i]) continue;
            return Shift(x[i]).CompareTo(Shift(y[i]));
        }
        return x.Length.CompareTo(y.Length);
    }

    // Surrogates (0xD800–0xDFFF) above 0xE000–0xFFFF: a character beyond U+FFFF then sorts after every one below it.
    private static int Shift(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;
}
