using System.Text;
using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Infrastructure.Admin;
using Steller.Projections.Inventory;
using Steller.Projections.Inventory.ListingLowStock;
using Steller.Projections.Inventory.ListingMovements;

namespace Steller.Api.Inventory;

/// <summary>
/// Stock read models for finance, support and analysts (eventually consistent):
/// the movements of one item (read.stock_movements; cursor pages, or with Accept: text/csv the whole range, as the
/// wallet statements do) and the items low right now (read.low_stock).
/// </summary>
public sealed class StockMovementEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app)
    {
        var admin = AdminEndpoints.Group(app);

        admin.MapGet("/inventory/{sku}/{location}/movements", async (string sku, string location, string? from, string? to, string? limit,
                string? after, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                if (!QueryParameters.TryRange(from, to, out var fromAt, out var toAt, out var problem)
                    || !QueryParameters.TryLimit(limit, StockMovementsQuery.DefaultLimit, StockMovementsQuery.MaxLimit, out var count,
                        out problem))
                    return problem!;
                if (!StockMovementsQuery.TryMovementsCursor(after, out var afterRevision)) return QueryParameters.InvalidCursor();
                if (Csv.Wanted(http.Request))
                {
                    http.Response.ContentType = "text/csv; charset=utf-8";
                    http.Response.Headers.ContentDisposition = $"attachment; filename=\"movements-{sku}-{location}.csv\"";
                    await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(false), 16 * 1024);
                    await mediator.Send(new WriteMovementsCsvRequest(sku, location, fromAt, toAt, writer), ct);
                    return Results.Empty;
                }
                return Results.Ok(await mediator.Send(new ListMovementsRequest(sku, location, fromAt, toAt, count, afterRevision), ct));
            })
            .WithTags("Inventory (admin)")
            .WithName("AdminStockMovements")
            .WithSummary("Movements of one stock item from read.stock_movements in stream order, with the running on hand and reserved "
                         + "after each; "
                         + "cursor pages (limit, after = `next`); from inclusive, to exclusive. Accept: text/csv streams the whole "
                             + "range as CSV. "
                         + "Roles: admin, finance, support, analyst.")
            .Produces<StockMovementPage>()
            .Produces(200, contentType: "text/csv")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        admin.MapGet("/inventory/low-stock", async (string? limit, string? after, IMediator mediator, CancellationToken ct) =>
            {
                if (!QueryParameters.TryLimit(limit, StockMovementsQuery.DefaultLimit, StockMovementsQuery.MaxLimit, out var count,
                    out var problem))
                    return problem!;
                if (!StockMovementsQuery.TryLowStockCursor(after, out var cursor)) return QueryParameters.InvalidCursor();
                return Results.Ok(await mediator.Send(new ListLowStockRequest(count, cursor), ct));
            })
            .WithTags("Inventory (admin)")
            .WithName("AdminLowStock")
            .WithSummary("Stock items low right now (threshold above 0, available at or below it) from read.low_stock, with the time each "
                         + "became low; ordered by sku and location, cursor pages (limit, after = `next`). Roles: admin, finance, "
                             + "support, analyst.")
            .Produces<LowStockPage>()
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);
    }

}
