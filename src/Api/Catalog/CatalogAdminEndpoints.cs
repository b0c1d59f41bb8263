using Steller.Application.Pipeline;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Catalog;
using Steller.Application.Commands;
using Steller.Application.Time;
using Steller.Domain;
using Steller.Domain.Catalog;
using Steller.Domain.Partners;
using Steller.Infrastructure.Admin;
using Steller.Projections.Catalog;
using Steller.Projections.Wallets;

namespace Steller.Api.Catalog;

/// <summary>
/// Admin catalog under /admin/catalog: define or update a stocked product (PUT, idempotent by content), delist it
/// (DELETE), read it live, its cost history and the negative-margin guardrail list. Changes are admin-only; reads are
/// open to every admin role.
/// </summary>
public sealed class CatalogAdminEndpoints : IEndpointModule
{
    /// <summary>A stocked product: fixed <see cref="FaceValue"/> or <see cref="MinFaceValue"/>–<see cref="MaxFaceValue"/>; cost absolute or a discount in bp.</summary>
    public sealed record StockedProductRequest(
        string? Name, string? Brand, string? Country, string? Currency, string? Type,
        long? FaceValue, long? MinFaceValue, long? MaxFaceValue, long? CostAmount, int? CostDiscountBasisPoints);

    public sealed record CostHistory(string Sku, IReadOnlyList<CostHistoryEntry> Entries);

    private const string SkuRule = "1–64 of a-z, 0-9 and '-', not starting with '-'";

    public void Map(IEndpointRouteBuilder app)
    {
        var catalog = AdminEndpoints.Group(app).MapGroup("/catalog").WithTags("Catalog (admin)");

        catalog.MapPost("/sync", async (CatalogSync sync, CancellationToken ct) => Results.Ok(await sync.RunAll(ct)))
            .WithSummary("Sync every configured vendor's catalog now (the Quartz job does this every Jobs:CatalogSyncMinutes): one report per vendor "
                         + "with what was read, listed, updated, re-costed and delisted. A vendor that fails mid-way delists nothing.")
            .Produces<IReadOnlyList<CatalogSyncReport>>();

        catalog.MapPut("/products/{sku}", async (string sku, StockedProductRequest body, HttpContext http, AggregateCommands<Product, IProductCommand, IProductEvent> products, IClock clock, CancellationToken ct) =>
        {
            var range = body.FaceValue is null;
            var errors = new FieldErrors()
                .Check(Product.IsValidSku(sku), "sku", SkuRule)
                .Check(body.Name is { Length: > 0 and <= 200 } && !string.IsNullOrWhiteSpace(body.Name), "name", "1–200 characters")
                .Check(body.Brand is { Length: > 0 and <= 100 } && !string.IsNullOrWhiteSpace(body.Brand), "brand", "1–100 characters")
                .Check(body.Country is { Length: 2 } && body.Country.All(char.IsAsciiLetterUpper), "country", "an ISO 3166-1 alpha-2 code such as DE")
                .Check(Currency.TryParse(body.Currency, out _), "currency", "an ISO 4217 code such as EUR")
                .Check(body.Type is not null && ProductTypes.All.Contains(body.Type), "type", $"one of {string.Join(", ", ProductTypes.All)}")
                .Check(body.FaceValue is null or > 0, "faceValue", "a positive amount in minor units")
                .Check(range ? body.MinFaceValue is > 0 : body.MinFaceValue is null, "minFaceValue", "with maxFaceValue instead of faceValue: a positive amount ≤ maxFaceValue")
                .Check(range ? body.MaxFaceValue is > 0 && body.MaxFaceValue >= body.MinFaceValue : body.MaxFaceValue is null, "maxFaceValue", "with minFaceValue instead of faceValue: a positive amount ≥ minFaceValue")
                .Check((body.CostAmount is null) != (body.CostDiscountBasisPoints is null), "cost", "exactly one of costAmount and costDiscountBasisPoints")
                .Check(body.CostAmount is null or >= 0 && !(range && body.CostAmount is not null), "costAmount", "0 or more minor units, for a fixed face value only")
                .Check(body.CostDiscountBasisPoints is null or (>= 0 and <= 10_000), "costDiscountBasisPoints", "0 to 10000 basis points off the face value");
            if (errors.Any) return errors.Problem();
            var details = new ProductDetails(ProductDetails.Stocked, null, body.Name!.Trim(), body.Brand!.Trim(), body.Country!, body.Currency!, body.Type!,
                body.FaceValue, range ? body.MinFaceValue : null, range ? body.MaxFaceValue : null);
            var outcome = await products.Execute(Product.StreamName(sku), new ListProduct(sku, details, new ProductCost(body.CostAmount, body.CostDiscountBasisPoints), clock.UtcNow), RequestMetadata.For(http, clock), ct: ct);
            return CatalogResults.Respond(http, sku, outcome);
        }).WithSummary("Define or update a stocked product. The same content again answers 200 and changes nothing; a change answers 201 "
                       + "(details: catalog.product-updated.v1, cost: catalog.product-cost-changed.v1); a delisted product is listed again.")
            .Produces<ProductView>(200).Produces<ProductView>(201).ProducesProblem(400).ProducesProblem(409).ProducesProblem(422);

        catalog.MapDelete("/products/{sku}", async (string sku, HttpContext http, AggregateCommands<Product, IProductCommand, IProductEvent> products, IClock clock, CancellationToken ct) =>
        {
            if (!Product.IsValidSku(sku)) return new FieldErrors().Check(false, "sku", SkuRule).Problem();
            var outcome = await products.Execute(Product.StreamName(sku), new DelistProduct("admin", clock.UtcNow), RequestMetadata.For(http, clock), ct: ct);
            return CatalogResults.Respond(http, sku, outcome, repeatStatus: 200, changeStatus: 200);
        }).WithSummary("Delist a product (stocked or vendor). Delisting twice is a no-op; a later PUT or sync lists it again.")
            .Produces<ProductView>().ProducesProblem(404);

        catalog.MapGet("/products/{sku}", async (string sku, HttpContext http, AggregateCommands<Product, IProductCommand, IProductEvent> products, CancellationToken ct) =>
        {
            if (!Product.IsValidSku(sku)) return new FieldErrors().Check(false, "sku", SkuRule).Problem();
            var (state, revision) = await products.Load(Product.StreamName(sku), ct);
            if (!state.Exists) return CatalogResults.Problem(ProductErrors.UnknownSku);
            http.Response.Headers.ETag = $"\"{revision}\"";
            return Results.Ok(ProductView.Of(state, revision));
        }).WithSummary("One product, live from its stream (ETag = stream revision).")
            .Produces<ProductView>().ProducesProblem(404)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        catalog.MapGet("/products/{sku}/history", async (string sku, AggregateCommands<Product, IProductCommand, IProductEvent> products, CatalogQuery query, CancellationToken ct) =>
        {
            if (!Product.IsValidSku(sku)) return new FieldErrors().Check(false, "sku", SkuRule).Problem();
            var (state, _) = await products.Load(Product.StreamName(sku), ct);
            if (!state.Exists) return CatalogResults.Problem(ProductErrors.UnknownSku);
            return Results.Ok(new CostHistory(sku, await query.CostHistory(sku, ct)));
        }).WithSummary("Cost history of a product from read.product_cost_history: listed, cost-changed (old and new) and delisted, oldest first.")
            .Produces<CostHistory>().ProducesProblem(404)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        catalog.MapGet("/negative-margins", async (string? partnerId, string? sku, string? limit, string? after, CatalogQuery query, CancellationToken ct) =>
        {
            var errors = new FieldErrors()
                .Check(partnerId is null || Partner.IsValidId(partnerId), "partnerId", SkuRule)
                .Check(sku is null || Product.IsValidSku(sku), "sku", SkuRule)
                .Check(QueryParameters.TryLimit(limit, CatalogQuery.DefaultLimit, CatalogQuery.MaxLimit, out var take, out _), "limit", $"a whole number from 1 to {CatalogQuery.MaxLimit}");
            (string, string)? cursor = null;
            if (after is not null)
            {
                var dot = after.IndexOf('.');
                var ok = dot > 0 && Partner.IsValidId(after[..dot]) && Product.IsValidSku(after[(dot + 1)..]);
                errors.Check(ok, "after", "a cursor this endpoint returned as 'next'");
                if (ok) cursor = (after[..dot], after[(dot + 1)..]);
            }
            if (errors.Any) return errors.Problem();
            return Results.Ok(await query.NegativeMargins(partnerId, sku, take, cursor, ct));
        }).WithSummary("The price guardrail: (partner, sku) pairs whose price is below cost at the product's face value (fixed, or the worse of min and max), "
                       + "with their total count; filter by partnerId, sku; pages of `limit`, next page with after=`next`.")
            .Produces<NegativeMarginPage>().ProducesProblem(400)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);
    }
}

/// <summary>A product as the admin API shows it (live state).</summary>
public sealed record ProductView(
    string Sku, string Source, string? Vendor, string? VendorProductId, string Name, string Brand, string Country, string Currency, string Type,
    long? FaceValue, long? MinFaceValue, long? MaxFaceValue, long? CostAmount, int? CostDiscountBasisPoints, bool Active, long Revision)
{
    public static ProductView Of(Product p, long revision)
    {
        var d = p.Details!;
        return new(p.Sku!, d.Source, d.IsStocked ? null : d.Source, d.VendorProductId, d.Name, d.Brand, d.Country, d.Currency, d.ProductType,
            d.FixedFaceValue, d.MinFaceValue, d.MaxFaceValue, p.Cost!.Amount, p.Cost.DiscountBasisPoints, p.Active, revision);
    }
}

/// <summary>How product outcomes become HTTP: one mapping of domain error codes to statuses.</summary>
public static class CatalogResults
{
    public static int StatusOf(DomainError error) => error.Code switch
    {
        "unknown_sku" => 404,
        "product_source_conflict" or "product_delisted" => 409,
        _ => 422,
    };

    public static IResult Problem(DomainError error) => Problems.Result(StatusOf(error), error.Code, error.Message);


    public static IResult Respond(HttpContext http, string sku, CommandOutcome<Product> outcome, int repeatStatus = 200, int changeStatus = 201)
    {
        if (outcome.Error is { } error) return Problem(error);
        http.Response.Headers.ETag = $"\"{outcome.Revision}\"";
        return Results.Json(ProductView.Of(outcome.State, outcome.Revision), statusCode: outcome.WasRepeat ? repeatStatus : changeStatus);
    }
}
