using MediatR;
using Steller.Application.EventStore;

namespace Steller.Projections.Chain.ReadingHead;

/// <summary>
/// The head of the hash chain: the last sealed event (its sequence, log position and the chain's hash after it), when it
/// was sealed, and how far the sealer is behind the log. Finance writes sequence, position and hash down outside the system
/// and later proves with `steller ledger verify --expect POSITION=HASH` that nothing up to there changed.
/// </summary>
/// <param name="Sequence">Events sealed (0 when none).</param>
/// <param name="Position">Log position of the last sealed event (null when none).</param>
/// <param name="Hash">The chain's hash after it, 64 hex digits (32 zero bytes when nothing is sealed).</param>
/// <param name="SealedAt">When the last sealed event was sealed.</param>
/// <param name="LagEvents">Events in the log after the head, not sealed yet (null when the store cannot count).</param>
/// <param name="LagSeconds">Age of the oldest event not sealed yet; 0 when the sealer is at the head.</param>
public sealed record LedgerHead(long Sequence, string? Position, string Hash, DateTimeOffset? SealedAt, long? LagEvents, double LagSeconds);

/// <summary>GET /admin/ledger/head.</summary>
public sealed record ReadLedgerHeadRequest : IRequest<LedgerHead>;

public sealed class ReadLedgerHeadHandler(ChainStore chain, IChainLog log, IEventStore store, Application.Time.IClock clock)
    : IRequestHandler<ReadLedgerHeadRequest, LedgerHead>
{
    public async Task<LedgerHead> Handle(ReadLedgerHeadRequest request, CancellationToken ct)
    {
        var head = await chain.Head(ct);
        var position = head?.Position ?? LogPosition.Start;
        var next = await log.Read(position, 1, ct);
        long? lag = next.Count == 0 ? 0 : store is IEventLogStatistics stats ? await stats.CountAfter(position, ct) : null;
        var lagSeconds = next.Count == 0 ? 0 : Math.Max(0, (clock.UtcNow - next[0].RecordedAt).TotalSeconds);
        return new LedgerHead(head?.Sequence ?? 0, head?.Position.ToString(), head?.HashHex ?? ChainHasher.Hex(ChainHasher.Genesis),
            head?.SealedAt, lag, lagSeconds);
    }
}
