using Steller.Projections.Orders.ReadingPartnerStats;
using Steller.Api.Http;
using Steller.Api.Wallets;
using MediatR;
using Steller.Projections.Wallets.ListingWallets;
using Steller.Projections.Wallets.Statements;
using Steller.Projections.Wallets.ViewingBalanceAsOf;
using Steller.Api.Admin;
using Steller.Application.Time;

namespace Steller.Api.Partners;

/// <summary>
/// The signed partner API (/v1). Every route here runs after <see cref="Signing.PartnerSignatures"/> accepted the request.
/// </summary>
public sealed class PartnerApiEndpoints : IEndpointModule
{
    public sealed record Me(string PartnerId, string Name, string Status);
    public sealed record LowBalanceThresholdBody(long? Threshold);
    /// <summary>The wallet's low-balance threshold after the change (null: none), its available balance and revision.</summary>
    public sealed record LowBalanceThresholdView(string Currency, long? Threshold, long Available, long Revision);

    public void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Partner API");
        v1.MapGet("/me", (AuthenticatedPartner partner) =>
                Results.Ok(new Me(partner.PartnerId, partner.State.Name!, partner.State.Status.ToString().ToLowerInvariant())))
            .WithSummary("The calling partner (proves the RFC 9421 request signature).")
            .Produces<Me>()
            .ProducesProblem(401);

        // A partner reads only its own wallets: the partner id comes from the verified signature, never from the request.
        v1.MapGet("/wallets", (AuthenticatedPartner partner, IMediator mediator, CancellationToken ct) =>
                WalletHttp.List(partner.PartnerId, mediator, ct))
            .WithSummary("The calling partner's wallets: posted, pending, available, credit limit, frozen.")
            .Produces<WalletList>()
            .ProducesProblem(401);

        v1.MapGet("/stats", async (AuthenticatedPartner partner, string? from, string? to, string? granularity, HttpContext http,
                IMediator mediator, CancellationToken ct) =>
            {
                var stats = await mediator.Send(new ReadPartnerStatsRequest(partner.PartnerId, from, to, granularity), ct);
                return Csv.Wanted(http.Request)
                    ? await Csv.Lines(http, $"stats-{stats.Granularity}.csv", ReadPartnerStatsRequest.Csv(stats), ct)
                    : Results.Ok(stats);
            })
            .WithSummary("The calling partner's numbers per UTC day or calendar month over from..to (days, inclusive): orders placed, "
                         + "completed, failed, rejected, cancelled, captured, refunded, spent and success rate, per currency; product "
                         + "type \"all\" counts orders exactly, and one row per product type follows. Accept: text/csv for CSV.")
            .Produces<PartnerStats>().Produces(200, contentType: "text/csv").ProducesProblem(400).ProducesProblem(401);

        v1.MapGet("/wallets/{currency}", async (AuthenticatedPartner partner, string currency, string? asOf, IMediator mediator,
                IClock clock, CancellationToken ct) =>
            {
                if (!QueryParameters.TryInstant(asOf, "asOf", out var instant, out var problem)) return problem!;
                return await mediator.Send(new GetBalanceAsOfRequest(partner.PartnerId, currency, instant ?? clock.UtcNow), ct) is { } view
                    ? Results.Ok(view)
                    : Problems.Result(404, "wallet_not_found", $"The partner had no wallet in {currency} at that instant.");
            })
            .WithSummary("One of the calling partner's wallets as it was at asOf (ISO 8601; default now): posted, pending, available, "
                         + "credit limit, frozen, revision — folded from the wallet's events, the same fold as `steller ledger balances "
                         + "--as-of`.")
            .Produces<WalletAsOfView>()
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404);

        v1.MapGet("/wallets/{currency}/statement",
            (HttpContext context, AuthenticatedPartner partner, string currency, string? from, string? to, string? limit, string? after,
                    IMediator mediator, CancellationToken ct) =>
                WalletHttp.Statement(context, partner.PartnerId, currency, from, to, limit, after, mediator, ct))
            .WithSummary("Statement of one of the calling partner's wallets in log order, cursor-paginated (limit, after); from inclusive, "
                         + "to exclusive. "
                         + "Accept: text/csv streams the whole range as CSV.")
            .Produces<StatementPage>()
            .Produces(200, contentType: "text/csv")
            .ProducesProblem(401).ProducesProblem(404);

        v1.MapPut("/wallets/{currency}/low-balance-threshold", async (string currency, LowBalanceThresholdBody body, AuthenticatedPartner partner,
                HttpContext http, IMediator mediator, Steller.Application.Time.IClock clock, CancellationToken ct) =>
            {
                var request = new Steller.Application.Wallets.SettingLowBalanceThreshold.SetLowBalanceThresholdRequest(partner.PartnerId, currency,
                    body.Threshold, RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Outcomes.Respond(http, await mediator.Send(request, ct), WalletEndpoints.Statuses,
                    (w, revision) => new LowBalanceThresholdView(w.Currency!, w.LowBalanceThreshold, w.Available, revision));
            })
            .WithSummary("Sets the available balance (minor units) below which a wallet.low_balance webhook is sent, once per crossing; "
                         + "threshold null removes it. Nothing is refused because of it.")
            .Produces<LowBalanceThresholdView>()
            .Produces<LowBalanceThresholdView>(201)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(422)
            .AcceptsIfMatch();
    }
}
