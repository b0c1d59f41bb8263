using Steller.Application.Commands;
using Steller.Domain;

namespace Steller.Api.Http;

/// <summary>
/// Which HTTP status each domain error code of one aggregate answers with; codes not listed get the fallback (422 by
/// default: understood, but refused by the rules). Every aggregate's table sits beside its endpoints.
/// </summary>
public sealed class ErrorStatuses(int fallback = 422)
{
    /// <summary>
    /// Refusals that answer the same in every table, whichever aggregate meets them first (an order's hold, a receipt, a
    /// deposit): a bound or an unknown currency is 422, a stock item that does not exist 404.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> Common = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [Money.AmountOutOfRange.Code] = 422,
        [Quantity.OutOfRange.Code] = 422,
        ["unknown_currency"] = 422,
        [Steller.Domain.Inventory.StockErrors.NotFound.Code] = 404,
    };

    private readonly Dictionary<string, int> byCode = new(Common, StringComparer.Ordinal);

    public ErrorStatuses With(int status, params string[] codes)
    {
        foreach (var code in codes) byCode[code] = status;
        return this;
    }

    public int Of(DomainError error) => error.Code == CommandErrors.PreconditionFailedCode ? 412
        : byCode.GetValueOrDefault(error.Code, fallback);
}

/// <summary>How a command's outcome becomes HTTP, for every aggregate: one mapping.</summary>
public static class Outcomes
{
    /// <summary>
    /// The refusal as a problem; a stale If-Match (412) carries the current ETag so the caller can read and decide again.
    /// </summary>
    public static IResult Problem<TState>(HttpContext http, CommandOutcome<TState> outcome, ErrorStatuses statuses)
    {
        var error = outcome.Error!;
        if (error.Code == CommandErrors.PreconditionFailedCode) http.Response.Headers.ETag = ETag.Of(outcome.Revision);
        return Problem(error, statuses);
    }

    public static IResult Problem(DomainError error, ErrorStatuses statuses)
        => Problems.Result(statuses.Of(error), error.Code, error.Message);

    /// <summary>
    /// 201 for a change, 200 for an idempotent repeat (the first result stands), the problem otherwise. ETag = stream revision.
    /// </summary>
    public static IResult Respond<TState, TView>(HttpContext http, CommandOutcome<TState> outcome, ErrorStatuses statuses,
        Func<TState, long, TView> view)
    {
        if (outcome.Error is not null) return Problem(http, outcome, statuses);
        http.Response.Headers.ETag = ETag.Of(outcome.Revision);
        var body = view(outcome.State, outcome.Revision);
        return outcome.WasRepeat ? Results.Ok(body) : Results.Json(body, statusCode: 201);
    }

    /// <summary>200 with the view (a change to an existing resource), the problem otherwise. ETag = stream revision.</summary>
    public static IResult Ok<TState, TView>(HttpContext http, CommandOutcome<TState> outcome, ErrorStatuses statuses,
        Func<TState, long, TView> view)
    {
        if (outcome.Error is not null) return Problem(http, outcome, statuses);
        http.Response.Headers.ETag = ETag.Of(outcome.Revision);
        return Results.Ok(view(outcome.State, outcome.Revision));
    }
}

public static class ETag
{
    public static string Of(long revision) => $"\"{revision}\"";
}
