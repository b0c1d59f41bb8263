namespace Steller.Domain;

/// <summary>
/// Which transfer ids an event store's lookup by transfer id finds (the PostgreSQL index of migration 0019): 1 to
/// <see cref="MaxLength"/> characters of ASCII letters, digits, ':', '.', '_' and '-', carried as the first field of the
/// event's JSON (every wallet event declares its TransferId first). Such an id is written verbatim (no escape can occur), so
/// the index takes it from the start of the stored text with plain string functions that never fail on any text; every
/// other id is simply not indexed. Whatever the index does not cover must never be forgotten by a state that
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
