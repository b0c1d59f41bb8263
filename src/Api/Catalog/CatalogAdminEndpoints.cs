using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Catalog;
using Steller.Application.Catalog.DefiningStockedProduct;
using Steller.Application.Catalog.DelistingProduct;
using Steller.Application.Catalog.SyncingCatalog;
using Steller.Application.Commands;
using Steller.Application.Time;
using Steller.Domain.Catalog;
using Steller.Infrastructure.Admin;
using Steller.Projections.Catalog;
using Steller.Projections.Catalog.ListingNegativeMargins;
using Steller.Projections.Catalog.ReadingCostHistory;
using Steller.Projections.Catalog.ViewingProduct;

namespace Steller.Api.Catalog;

/// <summary>
/// Admin catalog under /admin/catalog: define or update a stocked product (PUT, idempotent by content), delist it
/// (DELETE), read it live, its cost history and the negative-margin guardrail list. Changes are admin-only; reads are
/// open to every admin role. Each write binds its body, sends one use case request and maps the outcome; writes honour If-Match.
/// </summary>
public sealed class CatalogAdminEndpoints : IEndpointModule
{
    /// <summary>
    /// A stocked product: fixed <see cref="FaceValue"/> or <see cref="MinFaceValue"/>–<see cref="MaxFaceValue"/>; cost
    /// absolute or a discount in bp.
    /// </summary>
    public sealed record StockedProductBody(
        string? Name, string? Brand, string? Country, string? Currency, string? Type,
        long? FaceValue, long? MinFaceValue, long? MaxFaceValue, long? CostAmount, int? CostDiscountBasisPoints);

    public sealed record CostHistory(string Sku, IReadOnlyList<CostHistoryEntry> Entries);

    /// <summary>Product refusals at the edge: an unknown sku 404, clashes 409, the rest 422.</summary>
    public static readonly ErrorStatuses Statuses = new ErrorStatuses()
        .With(404, "unknown_sku")
        .With(409, "product_source_conflict", "product_delisted");

    public void Map(IEndpointRouteBuilder app)
    {
        var catalog = AdminEndpoints.Group(app).MapGroup("/catalog").WithTags("Catalog (admin)");
        MapSync(catalog);
        MapProductChanges(catalog);
        MapProductReads(catalog);
        MapNegativeMargins(catalog);
    }

    private static void MapSync(RouteGroupBuilder catalog) =>
        catalog.MapPost("/sync", async (IMediator mediator, CancellationToken ct) =>
                Results.Ok(await mediator.Send(new SyncCatalogRequest(), ct)))
            .WithSummary("Sync every configured vendor's catalog now (the Quartz job does this every Jobs:CatalogSyncMinutes): one "
                         + "report per "
                         + "vendor with what was read, listed, updated, re-costed and delisted. A vendor that fails mid-way "
                             + "delists nothing.")
            .Produces<IReadOnlyList<CatalogSyncReport>>();

    private static void MapProductChanges(RouteGroupBuilder catalog)
    {
        catalog.MapPut("/products/{sku}", async (string sku, StockedProductBody body, HttpContext http, IMediator mediator, IClock clock,
                CancellationToken ct) =>
            {
                var request = new DefineStockedProductRequest(sku, body.Name, body.Brand, body.Country, body.Currency, body.Type,
                    body.FaceValue, body.MinFaceValue, body.MaxFaceValue, body.CostAmount, body.CostDiscountBasisPoints,
                    RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Outcomes.Respond(http, await mediator.Send(request, ct), Statuses, ProductView.Of);
            })
            .WithSummary("Define or update a stocked product. The same content again answers 200 and changes nothing; a change answers 201 "
                         + "(details: catalog.product-updated.v1, cost: catalog.product-cost-changed.v1); a delisted product is "
                             + "listed again.")
            .Produces<ProductView>(200).Produces<ProductView>(201).ProducesProblem(400).ProducesProblem(409).ProducesProblem(422)
            .AcceptsIfMatch();

        catalog.MapDelete("/products/{sku}", async (string sku, HttpContext http, IMediator mediator, IClock clock, CancellationToken ct) =>
                Outcomes.Ok(http, await mediator.Send(new DelistProductRequest(sku, RequestMetadata.For(http, clock),
                    IfMatch.Of(http)), ct),
                    Statuses, ProductView.Of))
            .WithSummary("Delist a product (stocked or vendor). Delisting twice is a no-op; a later PUT or sync lists it again.")
            .Produces<ProductView>().ProducesProblem(404)
            .AcceptsIfMatch();
    }

    private static void MapProductReads(RouteGroupBuilder catalog)
    {
        catalog.MapGet("/products/{sku}", async (string sku, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                if (await mediator.Send(new GetProductRequest(sku), ct) is not { } found)
                    return Outcomes.Problem(ProductErrors.UnknownSku, Statuses);
                http.Response.Headers.ETag = ETag.Of(found.Revision);
                return Results.Ok(ProductView.Of(found.Product, found.Revision));
            })
            .WithSummary("One product, live from its stream (ETag = stream revision).")
            .Produces<ProductView>().ProducesProblem(404)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        catalog.MapGet("/products/{sku}/history", async (string sku, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new ReadCostHistoryRequest(sku), ct) is { } entries
                    ? Results.Ok(new CostHistory(sku, entries))
                    : Outcomes.Problem(ProductErrors.UnknownSku, Statuses))
            .WithSummary(
                "Cost history of a product from read.product_cost_history: listed, cost-changed (old and new) and delisted, oldest first.")
            .Produces<CostHistory>().ProducesProblem(404)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);
    }

    private static void MapNegativeMargins(RouteGroupBuilder catalog) =>
        catalog.MapGet("/negative-margins", async (string? partnerId, string? sku, string? limit, string? after, IMediator mediator,
                CancellationToken ct) =>
                Results.Ok(await mediator.Send(new ListNegativeMarginsRequest(partnerId, sku, limit, after), ct)))
            .WithSummary("The price guardrail: (partner, sku) pairs whose price is below cost at the product's face value (fixed, or "
                         + "the worse of "
                         + "min and max), with their total count; filter by partnerId, sku; pages of `limit`, next page with after=`next`.")
            .Produces<NegativeMarginPage>().ProducesProblem(400)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);
}

/// <summary>A product as the admin API shows it (live state).</summary>
public sealed record ProductView(
    string Sku, string Source, string? Vendor, string? VendorProductId, string Name, string Brand, string Country, string Currency,
        string Type,
    long? FaceValue, long? MinFaceValue, long? MaxFaceValue, long? CostAmount, int? CostDiscountBasisPoints, bool Active, long Revision)
{
    public static ProductView Of(Product p, long revision)
    {
        var d = p.Details!;
        return new(p.Sku!, d.Source, d.IsStocked ? null : d.Source, d.VendorProductId, d.Name, d.Brand, d.Country, d.Currency,
            d.ProductType,
            d.FixedFaceValue, d.MinFaceValue, d.MaxFaceValue, p.Cost!.Amount, p.Cost.DiscountBasisPoints, p.Active, revision);
    }
}
