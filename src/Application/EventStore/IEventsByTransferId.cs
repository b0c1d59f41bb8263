namespace Steller.Application.EventStore;

/// <summary>
/// Optional capability of a store: a stream's events that carry one of some transfer ids (the JSON field "transferId" of
/// their data), found by an index instead of by reading the stream. Lets a wallet forget its closed holds and posted
/// transfers and recall them when a command names one (Wallet.Recall). Only the ids <see cref="Steller.Domain.TransferIdIndex.Covers"/>
/// are found (others are never indexed, so nothing may be forgotten that only they could recall). The PostgreSQL store has
/// it (migration 0019); without it (EventStoreDB) wallets keep their whole idempotency memory in the state.
/// </summary>
public interface IEventsByTransferId
{
    /// <summary>
    /// The events of <paramref name="streamId"/> up to revision <paramref name="toRevision"/> whose stored data begins with one
    /// of the covered <paramref name="transferIds"/> as its "transferId" field, in stream order. The caller decodes them and
    /// checks what each carries.
    /// </summary>
    Task<IReadOnlyList<RecordedEvent>> ReadByTransferIds(string streamId, IReadOnlyCollection<string> transferIds, long toRevision,
        CancellationToken ct = default);
}
