using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Vendors;

namespace Steller.Application.VendorAccounts.RecordingTopUp;

/// <summary>
/// Finance records money paid into Steller's prepaid account at a vendor; idempotent by <paramref name="Reference"/> within the
/// vendor (same reference and body: the first answer again; another body: 409 idempotency_conflict).
/// </summary>
public sealed record RecordVendorTopUpRequest(string Vendor, string? Currency, long? Amount, string? Reference, EventMetadata Metadata)
    : IRequest<CommandOutcome<VendorAccount>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Movement(Currency, Reference, Amount);
}

public sealed class RecordVendorTopUpHandler(AggregateCommands<VendorAccount, IVendorAccountCommand, IVendorAccountEvent> accounts)
    : IRequestHandler<RecordVendorTopUpRequest, CommandOutcome<VendorAccount>>
{
    public Task<CommandOutcome<VendorAccount>> Handle(RecordVendorTopUpRequest request, CancellationToken ct) =>
        !VendorAccountRules.Known.Contains(request.Vendor) ? Task.FromResult(VendorAccountRules.Unknown())
        : accounts.Execute(VendorAccount.StreamName(request.Vendor),
            new RecordVendorTopUp(request.Vendor, request.Reference!, request.Currency!, request.Amount!.Value), request.Metadata,
            eventIdSeed: $"vendor-top-up:{request.Vendor}:{request.Reference}", ct: ct);
}
