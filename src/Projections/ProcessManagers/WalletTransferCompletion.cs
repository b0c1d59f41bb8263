using Steller.Application.EventStore;
using Steller.Application.Commands;
using Steller.Application.Serialization;
using Steller.Application.Wallets;
using Steller.Application.Time;
using Steller.Domain.Wallets;

namespace Steller.Projections.ProcessManagers;

/// <summary>
/// Every wallet transfer out gets its transfer in on the receiving wallet (see <see cref="TransferCompletion{TSent}"/>), or,
/// when the receiver refuses it, its return to the sender.
/// </summary>
public sealed class WalletTransferCompletion(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets, EventTypeRegistry registry,
    IClock clock)
    : TransferCompletion<TransferredOut>(registry, clock, Actor)
{
    public const string Actor = "system:transfer-completion";
    public override string Name => "wallet_transfer_completion";

    protected override async Task<string?> Complete(string streamId, TransferredOut transfer, EventMetadata metadata, CancellationToken ct)
    {
        if (!Wallet.TryParseStreamName(streamId, out var from, out var currency)) return null;
        var outcome = await wallets.Execute(Wallet.StreamName(transfer.ToPartnerId, currency),
            new TransferIn(transfer.TransferId, transfer.Amount, from), metadata, ct: ct);
        if (outcome.Error is not { } error) return null;
        // The receiver cannot take it (it would pass the bound): the money goes back to the sender instead of stopping here.
        var returned = await wallets.ReturnRefusedTransfer(from, currency, transfer.TransferId, error, metadata, ct);
        return returned.Error is { } stuck
            ? $"Transfer {transfer.TransferId} cannot reach {transfer.ToPartnerId}/{currency} ({error.Code}) nor return to {from} ({stuck.Code})"
            : null;
    }
}
