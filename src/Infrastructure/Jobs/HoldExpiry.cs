using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Wallets;

namespace Steller.Infrastructure.Jobs;

/// <summary>Releases wallet holds whose expiry has passed (candidates from read.wallet_open_holds; see <see cref="OpenItemExpiry"/>).</summary>
public sealed class HoldExpiry(NpgsqlDataSource db, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets, IClock clock, ILogger<HoldExpiry> logger)
    : OpenItemExpiry(db, clock, logger, table: "wallet_open_holds", idColumn: "transfer_id", Actor, items: "hold(s)")
{
    public const string Actor = "system:hold-expiry";

    protected override async Task<bool> Release(string streamId, string transferId, EventMetadata metadata, CancellationToken ct)
    {
        if (!Wallet.TryParseStreamName(streamId, out var partner, out var currency)) return false;
        var outcome = await wallets.Execute(Wallet.StreamName(partner, currency), new ReleaseHold(transferId, "expired"), metadata, ct: ct);
        return outcome.Succeeded && !outcome.WasRepeat;
    }
}

[DisallowConcurrentExecution]
public sealed class HoldExpiryJob(HoldExpiry expiry) : IJob
{
    public Task Execute(IJobExecutionContext context) => ReadModelJobs.PassWhenReady(expiry.ReleaseExpired, context.CancellationToken);
}
