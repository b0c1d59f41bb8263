using Quartz;
using Steller.Application.Catalog;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Runs <see cref="CatalogSync"/> over every registered vendor catalog every <c>Jobs:CatalogSyncMinutes</c> (default
/// 30; the first run one minute after start). Never two runs at once on one node; each run logs its counts.
/// </summary>
[DisallowConcurrentExecution]
public sealed class CatalogSyncJob(CatalogSync sync) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct) => await sync.RunAll(ct);
}
