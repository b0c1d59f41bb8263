using Steller.Application.EventStore;
using Steller.Application.Commands;
using Steller.Application.Serialization;
using Steller.Application.Time;
using Steller.Domain.Wallets;
using Steller.Projections.Engine;

namespace Steller.Projections.Wallets;

/// <summary>
/// Process manager: every wallet.transferred-out.v1 gets its wallet.transferred-in.v1 on the receiving wallet.
/// The HTTP handler does both halves at once; this catches the case where the process died in between.
/// It rides the projection engine for its checkpoint and leadership and owns no tables; its effect is a wallet
/// command that is idempotent by transfer id, so re-running a batch (after a crash, or a rebuild) changes nothing.
/// </summary>
public sealed class TransferCompletion(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets, EventTypeRegistry registry, IClock clock) : IProjection
{
    public const string Actor = "system:transfer-completion";
    public string Name => "wallet_transfer_completion";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "wallet.transferred-out.v1" };
    public IReadOnlyList<string> Tables => [];
    public string CreateTablesSql(string schema) => "";

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        foreach (var e in events)
        {
            if (registry.Deserialize(e.Type, e.Data.Span) is not TransferredOut transfer) continue;
            if (!Wallet.TryParseStreamName(e.StreamId, out var from, out var currency)) continue;
            var metadata = new EventMetadata(e.Metadata.CorrelationId, e.EventId.ToString(), Guid.NewGuid(), Actor, clock.UtcNow);
            var outcome = await wallets.Execute(Wallet.StreamName(transfer.ToPartnerId, currency), new TransferIn(transfer.TransferId, transfer.Amount, from), metadata, ct: context.CancellationToken);
            // A refused incoming half would leave money in transit: stop here (the projection faults and retries) rather than skip it.
            if (outcome.Error is { } error)
                throw new InvalidOperationException($"Transfer {transfer.TransferId} cannot reach {transfer.ToPartnerId}/{currency}: {error.Code}");
        }
    }
}
