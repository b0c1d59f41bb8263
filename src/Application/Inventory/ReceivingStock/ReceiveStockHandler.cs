using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.ReceivingStock;

/// <summary>
/// Units received at one location: quantity, unit cost in minor units and, for coded products, one voucher code per unit.
/// </summary>
public sealed record ReceiveStockRequest(
    string Sku, string Location, string? ReceiptId, long? Quantity, long? UnitCost, string? Currency, IReadOnlyList<string?>? VoucherCodes,
    EventMetadata Metadata, long? IfMatch = null) : IRequest<CommandOutcome<Stock>>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Target(Sku, Location)
        .CommandId(ReceiptId, "receiptId")
        .Units(Quantity)
        .Required(UnitCost, "unitCost", cost => cost >= 0, "the cost of one unit, 0 or more minor units")
        .Required(Currency, "currency", Domain.Currency.IsKnown, Domain.Currency.UnknownMessage(Currency))
        // The messages never quote a code: they are secrets from the moment they arrive.
        .Check(VoucherCodes is null || VoucherCodes.Count == Quantity, "voucherCodes",
            "exactly one code per unit received (or leave it out for a product without codes)")
        .Check(VoucherCodes is null || VoucherCodes.All(IsVoucherCode), "voucherCodes", "each code is 1–200 printable characters")
        .Check(VoucherCodes is null || VoucherCodes.Distinct(StringComparer.Ordinal).Count() == VoucherCodes.Count, "voucherCodes",
            "codes are unique within a receipt");

    private static bool IsVoucherCode(string? code) => code is { Length: > 0 and <= 200 } && code.All(c => c is >= ' ' and <= '~');

    /// <summary>Never the codes: a request may be printed (a log line, a debugger) and the codes are secrets.</summary>
    public override string ToString() =>
        $"{nameof(ReceiveStockRequest)} {{ Sku = {Sku}, Location = {Location}, ReceiptId = {ReceiptId}, Quantity = {Quantity} }}";
}

/// <summary>
/// Records a receipt. Voucher codes are sealed (<see cref="VoucherCodes"/>) before anything else sees them. Idempotent by receipt id.
/// </summary>
public sealed class ReceiveStockHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock, VoucherCodes vouchers)
    : IRequestHandler<ReceiveStockRequest, CommandOutcome<Stock>>
{
    public Task<CommandOutcome<Stock>> Handle(ReceiveStockRequest request, CancellationToken ct)
    {
        var (sku, location, receiptId) = (request.Sku, request.Location, request.ReceiptId!);
        var sealedCodes = request.VoucherCodes is { } codes
            ? vouchers.Seal(sku, location, receiptId, codes.Select(c => c!).ToList()) : null;
        var command = new ReceiveStock(receiptId, request.Quantity!.Value, request.UnitCost!.Value, request.Currency!, sealedCodes);
        return stock.Execute(Stock.StreamName(sku, location), command, request.Metadata, request.IfMatch, ct: ct);
    }
}
