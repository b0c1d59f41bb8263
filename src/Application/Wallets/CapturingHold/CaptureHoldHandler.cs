using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Orders;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Application.Wallets.CapturingHold;

/// <summary>
/// Captures all or part of a hold (the rest is released); legs default to platform revenue. A repeat answers as the first.
/// </summary>
public sealed record CaptureHoldRequest(string PartnerId, string Currency, string TransferId, long? Amount, IReadOnlyList<CaptureLeg>? Legs,
    EventMetadata Metadata, long? IfMatch = null) : IRequest<CommandOutcome<Wallet>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Wallet(PartnerId, Currency)
        .Required(Amount, "amount", a => a >= 0, "the amount to capture, 0 or more minor units, at most the held amount")
        .Check(Legs is null || Legs.All(l => !string.IsNullOrWhiteSpace(l.Account) && l.Amount >= 0), "legs",
            "each leg names a platform account and a non-negative amount");
}

public sealed class CaptureHoldHandler(AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, AggregateCommands<Order, IOrderCommand, IOrderEvent> orders)
    : IRequestHandler<CaptureHoldRequest, CommandOutcome<Wallet>>
{
    public async Task<CommandOutcome<Wallet>> Handle(CaptureHoldRequest request, CancellationToken ct)
    {
        var vendors = await VendorsOf(request, ct);
        var command = new CaptureHold(request.TransferId, request.Amount!.Value, request.Legs, vendors);
        return await wallets.ExecuteOn(partners, request.PartnerId, request.Currency, command, request.Metadata, request.IfMatch, ct);
    }

    /// <summary>
    /// The vendors a capture of this hold may pay: the sources of the hold's order's lines (none for a hold without an order),
    /// so a leg can only credit a payable that exists by rule.
    /// </summary>
    private async Task<IReadOnlyCollection<string>> VendorsOf(CaptureHoldRequest request, CancellationToken ct)
    {
        if (request.Legs is not { Count: > 0 }) return [];
        var (wallet, _) = await wallets.Load(Wallet.StreamName(request.PartnerId, request.Currency), ct);
        if (!wallet.Holds.TryGetValue(request.TransferId, out var hold) || hold.OrderId is not { } orderId || !Order.IsValidId(orderId))
            return [];
        var (order, _) = await orders.Load(Order.StreamName(orderId), ct);
        return order.Lines.Select(l => l.Line.Pricing?.Source).OfType<string>().ToHashSet(StringComparer.Ordinal);
    }
}
