using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Pipeline;
using Steller.Domain.Orders;
using Steller.Domain.Vendors;

namespace Steller.Application.VendorAccounts.RecordingVendorRefund;

/// <summary>
/// Finance records a vendor's reversal: money back into the prepaid account, its own transfer (never an edit of a capture);
/// idempotent by <paramref name="Reference"/> within the vendor.
/// </summary>
public sealed record RecordVendorRefundRequest(string Vendor, string? Currency, long? Amount, string? Reference, string? OrderId,
    string? Reason, EventMetadata Metadata) : IRequest<CommandOutcome<VendorAccount>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Movement(Currency, Reference, Amount)
        .Check(OrderId is null || Order.IsValidId(OrderId), "orderId", "an order id, or absent")
        .Required(Reason, "reason", r => r is { Length: > 0 and <= Text.ReasonMax }, $"required: 1–{Text.ReasonMax} characters");
}

public sealed class RecordVendorRefundHandler(AggregateCommands<VendorAccount, IVendorAccountCommand, IVendorAccountEvent> accounts)
    : IRequestHandler<RecordVendorRefundRequest, CommandOutcome<VendorAccount>>
{
    public Task<CommandOutcome<VendorAccount>> Handle(RecordVendorRefundRequest request, CancellationToken ct) =>
        !VendorAccountRules.Known.Contains(request.Vendor) ? Task.FromResult(VendorAccountRules.Unknown())
        : accounts.Execute(VendorAccount.StreamName(request.Vendor),
            new RecordVendorRefund(request.Vendor, request.Reference!, request.Currency!, request.Amount!.Value, request.OrderId,
                request.Reason!), request.Metadata, eventIdSeed: $"vendor-refund:{request.Vendor}:{request.Reference}", ct: ct);
}
