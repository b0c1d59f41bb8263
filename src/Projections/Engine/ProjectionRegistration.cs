using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Steller.Application.Pipeline;
using Steller.Application.Serialization;
using Steller.Projections.Wallets;
using Steller.Projections.Streams;
using Steller.Projections.Wallets.Statements;
using Steller.Projections.Wallets.Balances;

namespace Steller.Projections.Engine;

public static class ProjectionRegistration
{
    /// <summary>The engine's services, every read model Steller ships and the transfer completions (process managers).</summary>
    public static IServiceCollection AddStellerProjections(this IServiceCollection services)
    {
        services.AddUseCases(typeof(ProjectionRegistration).Assembly); // the read-model queries' MediatR handlers
        // On the pool whose sessions never append: a read model's batch transaction does not hold readers of the log back.
        services.AddSingleton(sp => new ProjectionStore(sp.GetRequiredService<Infrastructure.Postgres.NoAppendDataSource>().DataSource));
        services.AddSingleton<LogTail>(); // one reader of the global log for every projection and process manager in the process
        services.AddSingleton<ProjectionGroup>(); // the live projections of the process, one transaction per batch
        services.AddSingleton<ProjectionRebuilder>();
        services.AddSingleton<ProjectionStatusReader>();
        services.AddSingleton<ParkedEventRetry>();
        services.AddSingleton(sp => sp.GetRequiredService<Infrastructure.Configuration.StellerSettings>().Projections);
        services.AddSingleton<IProjection, StreamStatsProjection>();
        services.AddSingleton<IProjection, Wallets.OpenHoldsProjection>();
        services.AddProcessManager<ProcessManagers.WalletTransferCompletion>();
        services.AddProcessManager<ProcessManagers.StockTransferCompletion>();
        services.AddSingleton<IProjection, LedgerProjection>();
        services.AddSingleton<IProjection, Finance.PnlMonthlyProjection>();
        services.AddSingleton<IProjection, Inventory.StockLevelsProjection>();
        services.AddSingleton<IProjection, Inventory.OpenReservationsProjection>();
        services.AddSingleton<IProjection, Catalog.CatalogProductsProjection>();
        services.AddSingleton<IProjection, Catalog.ProductCostHistoryProjection>();
        services.AddSingleton<IProjection, Catalog.NegativeMarginsProjection>();
        services.AddSingleton<IProjection, Inventory.StockMovementsProjection>();
        services.AddSingleton<IProjection, Inventory.LowStockProjection>();
        services.AddSingleton<IProjection, Partners.PartnersProjection>();
        services.AddSingleton<Partners.PartnersQuery>();
        services.AddSingleton<IProjection, Alerts.AlertsProjection>();
        services.AddSingleton<Alerts.AlertsQuery>();
        // Ledger queries and the replay/audit that folds the event store (used by the CLI and the admin API).
        services.TryAddSingleton(_ => EventTypeRegistry.ForDomain());
        services.AddSingleton<LedgerReplay>();
        services.AddSingleton<LedgerAudit>();
        services.AddSingleton<Inventory.StockAudit>();
        // Every audit run is stored (read.audit_runs); vendor reconciliation asks the configured vendors for their balance.
        services.AddSingleton<Audits.AuditRuns>();
        services.AddSingleton<VendorAccounts.VendorReconciliation>();
        services.AddSingleton<Inventory.StockLevelsQuery>();
        services.AddSingleton<Catalog.CatalogQuery>();
        services.AddSingleton<Application.Catalog.ICatalogIndex>(sp => sp.GetRequiredService<Catalog.CatalogQuery>());
        services.AddSingleton<Inventory.StockMovementsQuery>();
        services.AddSingleton<WalletBalancesQuery>();
        services.AddSingleton<WalletStatementQuery>();
        Orders.OrderReadModelsRegistration.AddOrderReadModels(services);
        Chain.ChainRegistration.AddLedgerChain(services);
        return services;
    }

    /// <summary>Runs the projections in this process (the API host does; the CLI does not).</summary>
    public static IServiceCollection AddProjectionRunner(this IServiceCollection services)
    {
        services.AddSingleton<ProjectionRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionRunner>());
        services.AddHostedService(sp => sp.GetRequiredService<Chain.ChainSealer>()); // the hash chain over the log
        return services;
    }
}
