using Dapper;
using Steller.Application.Commands;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Wallets;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Releases holds whose expiry has passed. Candidates come from read.wallet_open_holds; each release is a wallet
/// command, so the wallet decides: a hold captured in the meantime stays captured, one released twice stays released once.
/// </summary>
public sealed class HoldExpiry(NpgsqlDataSource db, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets, IClock clock, ILogger<HoldExpiry> logger)
{
    public const string Actor = "system:hold-expiry";

    /// <summary>Releases every expired hold the read model knows of; returns how many it released now.</summary>
    public async Task<int> ReleaseExpired(CancellationToken ct)
    {
        var released = 0;
        while (true)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var due = (await conn.QueryAsync<(string Stream, string TransferId)>(new CommandDefinition(
                "select stream_id, transfer_id from read.wallet_open_holds where expires_at <= @now order by expires_at limit 500",
                new { now = clock.UtcNow.UtcDateTime }, cancellationToken: ct))).ToList();
            var changed = 0;
            foreach (var (stream, transferId) in due)
            {
                if (!Wallet.TryParseStreamName(stream, out var partner, out var currency)) continue;
                var metadata = new EventMetadata($"expiry-{transferId}", $"expiry-{transferId}", Guid.NewGuid(), Actor, clock.UtcNow);
                var outcome = await wallets.Execute(Wallet.StreamName(partner, currency), new ReleaseHold(transferId, "expired"), metadata, ct: ct);
                if (outcome.Succeeded && !outcome.WasRepeat) changed++;
            }
            released += changed;
            // Rows the projection has not caught up on yet would come back; stop when a pass changes nothing.
            if (due.Count < 500 || changed == 0) break;
        }
        if (released > 0) logger.LogInformation("Released {Count} expired hold(s)", released);
        return released;
    }
}

[DisallowConcurrentExecution]
public sealed class HoldExpiryJob(HoldExpiry expiry) : IJob
{
    public Task Execute(IJobExecutionContext context) => ReadModelJobs.PassWhenReady(ct => expiry.ReleaseExpired(ct), context.CancellationToken);
}
