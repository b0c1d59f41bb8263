using Quartz;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Infrastructure.Configuration;
using Steller.Projections.Audits;

namespace Steller.Api.Vendors;

public static class FinanceRegistration
{
    /// <summary>Vendor accounts and reconciliation, the audit runs list, and the nightly audits (when <c>Audits:Enabled</c>).</summary>
    public static IServiceCollection AddFinance(this IServiceCollection services, AuditSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<NightlyAudits>();
        services.AddSingleton<IEndpointModule, VendorAccountEndpoints>();
        services.AddSingleton<IEndpointModule, AuditRunEndpoints>();
        if (settings.Enabled)
            services.AddQuartz(q => q.ScheduleJob<NightlyAuditJob>(t => t.WithIdentity("nightly-audits")
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(settings.CheckSeconds)).RepeatForever()),
                j => j.WithIdentity("nightly-audits")));
        return services;
    }
}
