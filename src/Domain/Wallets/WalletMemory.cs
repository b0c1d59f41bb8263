using System.Collections.Immutable;

namespace Steller.Domain.Wallets;

/// <summary>
/// The wallet's idempotency memory, kept bounded. A wallet must answer a repeated transfer id as the first time for ever,
/// but only the open holds and the balances change its decisions otherwise. So a state may forget its closed holds and
/// posted transfers (<see cref="Forget"/>, once there are more than <see cref="RememberAtMost"/> of them), and before a
/// command is decided on such a <see cref="Lean"/> state, the records it reads that the state does not hold
/// (<see cref="Unknown"/>) are folded again from the stream's events that carry their transfer ids (<see cref="TransferIdsFor"/>)
/// and put back (<see cref="Recall"/>). <see cref="Decide"/> stays pure and sees exactly the full fold's records.
/// <para>
/// Why that is exact: forgetting only removes entries, never changes one; no event reads a closed hold or a transfer record
/// (a capture or release reads its hold, which is open and so never forgotten); an entry's value depends only on the events
/// that write its key, and those all carry one of <see cref="TransferIdsFor"/> its key as transfer id. The lookup finds only
/// the transfer ids <see cref="TransferIdIndex.Covers"/>, so a record is forgotten only when all of its key's transfer ids
/// are covered (<see cref="Forgettable"/>): a record the lookup could not find again is kept, whatever the bound. A key a lean
/// state lacks is therefore either forgotten and found again in full, or was never written.
/// </para>
/// </summary>
public sealed partial record Wallet
{
    /// <summary>
    /// True when closed holds and posted transfers may have been dropped (<see cref="Forget"/>): a key this state does not hold
    /// is then not known to be unused, and must be recalled from the stream before a decision reads it.
    /// </summary>
    public bool Lean { get; init; }

    /// <summary>Closed holds and transfer records a state keeps (with its open holds) before it forgets them (those it may).</summary>
    public const int RememberAtMost = 1_000;

    /// <summary>
    /// The state without its closed holds and transfer records when it holds more than <paramref name="rememberAtMost"/>
    /// entries in all; else the state itself. Open holds, balances and the records that are not <see cref="Forgettable"/> are
    /// always kept (the API only accepts ids the lookup covers, so those come from elsewhere, and are rare: past the bound, a
    /// state holding many of them is scanned on each compaction, in memory).
    /// </summary>
    public static Wallet Forget(Wallet s, int rememberAtMost = RememberAtMost)
    {
        if (s.Holds.Count + s.Transfers.Count <= rememberAtMost) return s;
        var holds = s.Holds.Where(h => h.Value.Status == HoldStatus.Open || !Forgettable(h.Key)).ToList();
        var transfers = s.Transfers.Where(t => !Forgettable(t.Key)).ToList();
        if (holds.Count == s.Holds.Count && transfers.Count == s.Transfers.Count) return s; // nothing may be forgotten
        return s with { Holds = Empty.Holds.AddRange(holds), Transfers = Empty.Transfers.AddRange(transfers), Lean = true };
    }

    /// <summary>
    /// True when the record under <paramref name="key"/> may be forgotten: the lookup covers every transfer id an event writing
    /// it can carry (<see cref="TransferIdsFor"/>). A record under any other key (an id too long, or with characters JSON
    /// might escape) could not be recalled, so a lean state keeps it.
    /// </summary>
    public static bool Forgettable(string key) => TransferIdIndex.Covers(key)
        && (!key.StartsWith(InPrefix, StringComparison.Ordinal) || TransferIdIndex.Covers(key[InPrefix.Length..]))
        && (!key.StartsWith(ReturnPrefix, StringComparison.Ordinal) || TransferIdIndex.Covers(key[ReturnPrefix.Length..]));

    /// <summary>
    /// The keys whose records <see cref="Decide"/> reads for <paramref name="command"/> and that <paramref name="s"/> may have
    /// forgotten; none unless the state is <see cref="Lean"/>. A key counts as known only in the map the decision reads first
    /// and stops at (a hold for a hold, a transfer for a transfer): one key can be in both maps (a hold named "return:x").
    /// A key that is not <see cref="Forgettable"/> is never unknown: a lean state lacking it knows it was never written.
    /// </summary>
    public static IReadOnlyList<string> Unknown(IWalletCommand command, Wallet s)
    {
        if (!s.Lean) return [];
        IReadOnlyList<string> keys = command switch
        {
            Deposit c => Transfer(c.TransferId),
            Withdraw c => Transfer(c.TransferId),
            CreditRefund c => Transfer(c.TransferId),
            TransferOut c => Transfer(c.TransferId),
            TransferIn c => Transfer(InKey(c.TransferId)),
            PlaceHold c => Hold(c.TransferId),
            CaptureHold c => Hold(c.TransferId),
            ReleaseHold c => Hold(c.TransferId),
            // Reads the return key, then (when it is absent) the sent transfer.
            ReturnTransfer c => s.Transfers.ContainsKey(ReturnKey(c.TransferId)) ? []
                : s.Transfers.ContainsKey(c.TransferId) ? [ReturnKey(c.TransferId)] : [ReturnKey(c.TransferId), c.TransferId],
            _ => [],
        };
        return keys.All(Forgettable) ? keys : keys.Where(Forgettable).ToList();

        // Repeat() stops at a transfer record; without one it also reads the holds.
        IReadOnlyList<string> Transfer(string key) => s.Transfers.ContainsKey(key) ? [] : [key];
        // A hold decision stops at the hold; without one it also reads the transfers (a place-hold).
        IReadOnlyList<string> Hold(string key) => s.Holds.ContainsKey(key) ? [] : [key];
    }

    /// <summary>
    /// The transfer ids of the events that write the records of <paramref name="keys"/>: the key itself, and for the keys of
    /// incoming and returned transfers the transfer id they were made from.
    /// </summary>
    public static IReadOnlySet<string> TransferIdsFor(IEnumerable<string> keys)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            ids.Add(key);
            if (key.StartsWith(InPrefix, StringComparison.Ordinal)) ids.Add(key[InPrefix.Length..]);
            if (key.StartsWith(ReturnPrefix, StringComparison.Ordinal)) ids.Add(key[ReturnPrefix.Length..]);
        }
        return ids;
    }

    /// <summary>The transfer id an event carries (what the store's lookup matches on), or null.</summary>
    public static string? TransferIdOf(IWalletEvent e) => e switch
    {
        Deposited d => d.TransferId,
        Refunded r => r.TransferId,
        Withdrawn w => w.TransferId,
        HoldPlaced h => h.TransferId,
        HoldCaptured c => c.TransferId,
        HoldReleased r => r.TransferId,
        TransferredOut t => t.TransferId,
        TransferredIn t => t.TransferId,
        TransferReturned t => t.TransferId,
        _ => null,
    };

    /// <summary>
    /// <paramref name="s"/> with the records of <paramref name="keys"/> as folded from <paramref name="events"/>: every event of
    /// the stream up to the state's revision whose transfer id is one of <see cref="TransferIdsFor"/> the keys, in stream order.
    /// Records the state holds already are kept (they are the full fold's). Events whose own transfer id is not one of those
    /// are skipped: the store matched stored text, and only the decoded event says what it carries.
    /// </summary>
    public static Wallet Recall(Wallet s, IReadOnlyCollection<string> keys, IEnumerable<IWalletEvent> events)
    {
        if (keys.Count == 0) return s;
        var ids = TransferIdsFor(keys);
        var scratch = events.Where(e => TransferIdOf(e) is { } id && ids.Contains(id)).Aggregate(Empty, Evolve);
        var holds = s.Holds;
        var transfers = s.Transfers;
        foreach (var key in keys)
        {
            if (!holds.ContainsKey(key) && scratch.Holds.TryGetValue(key, out var hold)) holds = holds.SetItem(key, hold);
            if (!transfers.ContainsKey(key) && scratch.Transfers.TryGetValue(key, out var transfer)) transfers = transfers.SetItem(key, transfer);
        }
        return ReferenceEquals(holds, s.Holds) && ReferenceEquals(transfers, s.Transfers) ? s : s with { Holds = holds, Transfers = transfers };
    }

    private const string InPrefix = "in:";
    private const string ReturnPrefix = "return:";
}
