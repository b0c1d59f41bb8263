using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Time;
using Steller.Application.VendorAccounts;
using Steller.Application.VendorAccounts.RecordingTopUp;
using Steller.Application.VendorAccounts.RecordingVendorRefund;
using Steller.Domain.Vendors;
using Steller.Infrastructure.Admin;
using Steller.Projections.VendorAccounts;
using Steller.Projections.VendorAccounts.Reconciling;

namespace Steller.Api.Vendors;

public sealed record VendorTopUpBody(string? Currency, long? Amount, string? Reference);
public sealed record VendorRefundBody(string? Currency, long? Amount, string? Reference, string? OrderId, string? Reason);

/// <summary>One recorded movement of a vendor account: the same answer for the first request and every repeat.</summary>
public sealed record VendorTransferView(string Vendor, string Kind, string Reference, string Currency, long Amount, string Account)
{
    public static VendorTransferView Of(string vendor, VendorTransfer t) =>
        new(vendor, t.Kind, t.Reference, t.Currency, t.Amount, Steller.Domain.Wallets.Accounts.VendorPayable(vendor, t.Currency));
}

/// <summary>
/// Steller's prepaid accounts at its vendors (docs/finance.md): finance records top-ups and the vendors' reversals, and
/// reconciles the ledger with the balance the vendor reports.
/// </summary>
public sealed class VendorAccountEndpoints : IEndpointModule
{
    public static readonly ErrorStatuses Statuses = new ErrorStatuses()
        .With(404, VendorAccountRules.NotFound.Code, VendorAccountErrors.InvalidVendor.Code)
        .With(409, VendorAccountErrors.IdempotencyConflict.Code);

    public void Map(IEndpointRouteBuilder app)
    {
        var vendors = app.MapAdminGroup().MapGroup("/vendors/{vendor}");

        vendors.MapPost("/top-ups", async (string vendor, VendorTopUpBody body, IMediator mediator, HttpContext http, IClock clock,
                CancellationToken ct) =>
            {
                var outcome = await mediator.Send(new RecordVendorTopUpRequest(vendor, body.Currency, body.Amount, body.Reference,
                    RequestMetadata.For(http, clock)), ct);
                return Outcomes.Respond(http, outcome, Statuses, (s, _) => VendorTransferView.Of(vendor, s.Transfers[body.Reference!]));
            })
            .RequireRoles(AdminRoles.Finance)
            .WithName("AdminRecordVendorTopUp")
            .WithSummary("Records money paid into Steller's prepaid account at the vendor (debit the vendor account, credit platform "
                + "funding). Idempotent by reference: the same reference and body answer 200 with the first result; another body 409 "
                + "idempotency_conflict. Roles: admin, finance.")
            .Produces<VendorTransferView>(201)
            .Produces<VendorTransferView>(200);

        vendors.MapPost("/refunds", async (string vendor, VendorRefundBody body, IMediator mediator, HttpContext http, IClock clock,
                CancellationToken ct) =>
            {
                var outcome = await mediator.Send(new RecordVendorRefundRequest(vendor, body.Currency, body.Amount, body.Reference,
                    body.OrderId, body.Reason, RequestMetadata.For(http, clock)), ct);
                return Outcomes.Respond(http, outcome, Statuses, (s, _) => VendorTransferView.Of(vendor, s.Transfers[body.Reference!]));
            })
            .RequireRoles(AdminRoles.Finance)
            .WithName("AdminRecordVendorRefund")
            .WithSummary("Records a vendor's reversal: money back into the prepaid account (debit the vendor account, credit platform "
                + "revenue), its own transfer. Idempotent by reference, like top-ups. Roles: admin, finance.")
            .Produces<VendorTransferView>(201)
            .Produces<VendorTransferView>(200);

        vendors.MapGet("/reconciliation", async (string vendor, string? currency, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new ReconcileVendorRequest(vendor, currency), ct) switch
                {
                    ReconcileVendorOutcome.Reconciled r => Results.Ok(r.Report),
                    ReconcileVendorOutcome.VendorNotFound => Problems.Result(404, VendorAccountRules.NotFound.Code,
                        VendorAccountRules.NotFound.Message),
                    ReconcileVendorOutcome.InvalidCurrency c => Problems.Result(400, "invalid_query",
                        $"'currency' is required: {Steller.Domain.Currency.UnknownMessage(c.Currency)}",
                        new Dictionary<string, object?> { ["parameter"] = "currency" }),
                    ReconcileVendorOutcome.NotConfigured n => Problems.Result(422, "vendor_not_configured",
                        $"The {n.Vendor} vendor is not configured on this node (Vendors:*:BaseUrl): its balance cannot be asked."),
                    ReconcileVendorOutcome.VendorUnavailable u => Problems.Result(502, "vendor_unavailable",
                        $"The {u.Vendor} vendor's balance could not be read: {u.Reason}"),
                    var other => throw new InvalidOperationException($"Unexpected outcome {other.GetType().Name}."),
                })
            .RequireRoles(AdminRoles.Finance)
            .WithName("AdminVendorReconciliation")
            .WithSummary("The ledger's balance at the vendor beside the balance the vendor's API reports, the difference explained by "
                + "orders in flight (submitted, not yet settled) and the unexplained rest; flagged (result drift) when anything is "
                + "unexplained. Roles: admin, finance.")
            .Produces<VendorReconciliationReport>();
    }
}
