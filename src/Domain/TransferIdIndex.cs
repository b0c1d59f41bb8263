namespace Steller.Domain;

/// <summary>
/// Which transfer ids an event store's lookup by transfer id finds (the PostgreSQL index of migration 0019): 1 to
/// <see cref="MaxLength"/> characters of ASCII letters, digits, ':', '.', '_' and '-'. Such an id is written into an event's
/// JSON verbatim (no escape can occur), so the index can take it from the stored text with a pattern that never fails on any
/// text; every other id is simply not indexed. Whatever the index does not cover must never be forgotten by a state that
/// relies on the lookup (Wallet.Forget). The SQL expression (PostgresEventStore.TransferIdExpression) mirrors this rule; a
/// test holds the two to agree.
/// </summary>
public static class TransferIdIndex
{
    /// <summary>Longest id indexed: an API transfer id (at most 100) with the longest prefix a wallet adds ("return:").</summary>
    public const int MaxLength = 128;

    /// <summary>True when the lookup by transfer id finds the events carrying <paramref name="transferId"/>.</summary>
    public static bool Covers(string? transferId)
    {
        if (transferId is not { Length: > 0 and <= MaxLength }) return false;
        foreach (var c in transferId)
            if (!(char.IsAsciiLetterOrDigit(c) || c is ':' or '.' or '_' or '-')) return false;
        return true;
    }
}
