using MediatR;
using Steller.Application.Inventory;
using Steller.Application.Pipeline;

namespace Steller.Projections.Inventory.ListingMovements;

/// <summary>
/// A page of one stock item's movements from read.stock_movements in stream order; <paramref name="From"/> inclusive,
/// <paramref name="To"/> exclusive; <paramref name="AfterRevision"/> from the previous page's cursor.
/// </summary>
public sealed record ListMovementsRequest(string Sku, string Location, DateTimeOffset? From, DateTimeOffset? To, int Limit, long AfterRevision)
    : IRequest<StockMovementPage>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Target(Sku, Location);
}

public sealed class ListMovementsHandler(StockMovementsQuery movements) : IRequestHandler<ListMovementsRequest, StockMovementPage>
{
    public Task<StockMovementPage> Handle(ListMovementsRequest request, CancellationToken ct) =>
        movements.Page(request.Sku, request.Location, request.From, request.To, request.Limit, request.AfterRevision, ct);
}

/// <summary>The whole range of one stock item's movements as CSV, written to <paramref name="Output"/> (the edge streams it).</summary>
public sealed record WriteMovementsCsvRequest(string Sku, string Location, DateTimeOffset? From, DateTimeOffset? To, TextWriter Output)
    : IRequest<Unit>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Target(Sku, Location);
}

public sealed class WriteMovementsCsvHandler(StockMovementsQuery movements) : IRequestHandler<WriteMovementsCsvRequest, Unit>
{
    public async Task<Unit> Handle(WriteMovementsCsvRequest request, CancellationToken ct)
    {
        await movements.WriteCsv(request.Sku, request.Location, request.From, request.To, request.Output, ct);
        return Unit.Value;
    }
}
