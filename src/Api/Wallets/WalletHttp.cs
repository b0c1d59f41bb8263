using System.Text;
using MediatR;
using Steller.Api.Http;
using Steller.Projections.Wallets.ListingWallets;
using Steller.Projections.Wallets.ReadingStatement;

namespace Steller.Api.Wallets;

/// <summary>
/// HTTP edge of the wallet reads (read models), shared by the admin API (partner id from the route; an unknown partner is
/// refused before these run) and the partner API /v1 (partner id from the verified signature). A partner only ever sees its
/// own wallets: another partner's currency simply answers 404 wallet_not_found. Statement pages say <c>items</c> and
/// <c>next</c>, like every paged answer. These only bind, send the request and map its outcome.
/// </summary>
public static class WalletHttp
{
    public static async Task<IResult> List(string partnerId, IMediator mediator, CancellationToken ct) =>
        Results.Ok(await mediator.Send(new ListWalletsRequest(partnerId), ct));

    /// <summary>JSON cursor pages, or with Accept: text/csv the whole range streamed (from inclusive, to exclusive).</summary>
    public static async Task<IResult> Statement(HttpContext context, string partnerId, string currency, string? from, string? to,
        string? limit, string? after, IMediator mediator, CancellationToken ct)
    {
        var outcome = await mediator.Send(
            new ReadStatementRequest(partnerId, currency, from, to, limit, after, Csv: Csv.Wanted(context.Request)), ct);
        switch (outcome)
        {
            case StatementOutcome.Page page:
                return Results.Ok(page.Value);
            case StatementOutcome.Csv csv:
                context.Response.ContentType = "text/csv; charset=utf-8";
                context.Response.Headers.ContentDisposition = $"attachment; filename=\"statement-{csv.Currency}.csv\"";
                await using (var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 16 * 1024))
                    await csv.WriteTo(writer, ct);
                return Results.Empty;
            case StatementOutcome.WalletNotFound none:
                return Problems.Result(404, "wallet_not_found", $"The partner has no wallet in {none.Currency}.");
            case StatementOutcome.Invalid invalid:
                return Problems.Result(400, invalid.Code, invalid.Message,
                    invalid.Parameter is { } parameter ? new Dictionary<string, object?> { ["parameter"] = parameter } : null);
            default:
                throw new InvalidOperationException($"Unexpected statement outcome {outcome.GetType().Name}.");
        }
    }

}
