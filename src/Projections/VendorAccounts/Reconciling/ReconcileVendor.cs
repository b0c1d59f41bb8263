using MediatR;
using Steller.Application.Vendors;
using Steller.Application.VendorAccounts;
using Steller.Domain;

namespace Steller.Projections.VendorAccounts.Reconciling;

/// <summary>GET /admin/vendors/{vendor}/reconciliation?currency=: the ledger beside the vendor's own balance (<see cref="VendorReconciliation"/>).</summary>
public sealed record ReconcileVendorRequest(string Vendor, string? Currency) : IRequest<ReconcileVendorOutcome>;

public abstract record ReconcileVendorOutcome
{
    public sealed record Reconciled(VendorReconciliationReport Report) : ReconcileVendorOutcome;
    /// <summary>Not a vendor Steller keeps a prepaid account at.</summary>
    public sealed record VendorNotFound(string Vendor) : ReconcileVendorOutcome;
    /// <summary>A known vendor whose adapter is not configured on this node: its balance cannot be asked.</summary>
    public sealed record NotConfigured(string Vendor) : ReconcileVendorOutcome;
    public sealed record InvalidCurrency(string? Currency) : ReconcileVendorOutcome;
    /// <summary>The vendor did not answer, or answered something that cannot be believed.</summary>
    public sealed record VendorUnavailable(string Vendor, string Reason) : ReconcileVendorOutcome;
}

public sealed class ReconcileVendorHandler(VendorReconciliation reconciliation) : IRequestHandler<ReconcileVendorRequest, ReconcileVendorOutcome>
{
    public async Task<ReconcileVendorOutcome> Handle(ReconcileVendorRequest request, CancellationToken ct)
    {
        if (!VendorAccountRules.Known.Contains(request.Vendor)) return new ReconcileVendorOutcome.VendorNotFound(request.Vendor);
        if (!Currency.IsKnown(request.Currency)) return new ReconcileVendorOutcome.InvalidCurrency(request.Currency);
        if (!reconciliation.CanAsk(request.Vendor)) return new ReconcileVendorOutcome.NotConfigured(request.Vendor);
        try { return new ReconcileVendorOutcome.Reconciled(await reconciliation.Run(request.Vendor, request.Currency!, ct)); }
        catch (VendorUnavailableException e)
        {
            return new ReconcileVendorOutcome.VendorUnavailable(request.Vendor, VendorText.Reason(e.Message) ?? "no answer");
        }
    }
}
