using Steller.Application.Time;
using System.Globalization;
using MediatR;
using Steller.Domain;
using Steller.Projections.Wallets.Statements;

namespace Steller.Projections.Wallets.ReadingStatement;

/// <summary>
/// One wallet's statement in log order: a cursor page (<see cref="Limit"/>, <see cref="After"/>), or with <see cref="Csv"/> the
/// whole range for the edge to stream. <see cref="From"/> is inclusive, <see cref="To"/> exclusive. The parameters come as the
/// query string spelled them, so the handler answers bad ones in the order and with the codes the API always used.
/// </summary>
public sealed record ReadStatementRequest(string PartnerId, string Currency, string? From, string? To, string? Limit, string? After,
    bool Csv = false) : IRequest<StatementOutcome>;

public abstract record StatementOutcome
{
    public sealed record Page(StatementPage Value) : StatementOutcome;

    /// <summary>The wallet exists; <see cref="WriteTo"/> streams the whole range as CSV.</summary>
    public sealed record Csv(string Currency, Func<TextWriter, CancellationToken, Task> WriteTo) : StatementOutcome;

    public sealed record WalletNotFound(string Currency) : StatementOutcome;

    /// <summary>A bad parameter: 400 with <see cref="Code"/>, naming <see cref="Parameter"/> when there is one.</summary>
    public sealed record Invalid(string Code, string Message, string? Parameter) : StatementOutcome;
}

public sealed class ReadStatementHandler(WalletStatementQuery statements, Balances.WalletBalancesQuery wallets)
    : IRequestHandler<ReadStatementRequest, StatementOutcome>
{
    public async Task<StatementOutcome> Handle(ReadStatementRequest request, CancellationToken ct)
    {
        if (!Currency.TryParse(request.Currency, out _))
            return new StatementOutcome.Invalid("invalid_currency", Currency.UnknownMessage(request.Currency), null);
        if (Invalid(request, out var from, out var to, out var limit, out var after) is { } invalid) return invalid;

        if (request.Csv)
        {
            if (await wallets.One(request.PartnerId, request.Currency, ct) is null)
                return new StatementOutcome.WalletNotFound(request.Currency);
            return new StatementOutcome.Csv(request.Currency,
                (writer, token) => statements.WriteCsv(request.PartnerId, request.Currency, from, to, writer, token));
        }
        var page = await statements.Page(request.PartnerId, request.Currency, from, to, limit, after, ct);
        return page is null ? new StatementOutcome.WalletNotFound(request.Currency) : new StatementOutcome.Page(page);
    }

    /// <summary>from and to are instants with from before to; limit is 1..<see cref="WalletStatementQuery.MaxLimit"/>.</summary>
    private static StatementOutcome.Invalid? Invalid(ReadStatementRequest request, out DateTimeOffset? from, out DateTimeOffset? to,
        out int limit, out StatementCursor after)
    {
        to = null;
        limit = WalletStatementQuery.DefaultLimit;
        after = StatementCursor.Start;
        var badInstant = Instant(request.From, "from", out from) ?? Instant(request.To, "to", out to);
        if (badInstant is not null) return badInstant;
        if (from is { } f && to is { } t && f >= t)
            return new("invalid_query", "'from' must be before 'to' (from is inclusive, to exclusive).", "from");
        if (!string.IsNullOrEmpty(request.Limit)
            && !(int.TryParse(request.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit)
                 && limit is >= 1 and <= WalletStatementQuery.MaxLimit))
            return new("invalid_query", $"'limit' must be a whole number from 1 to {WalletStatementQuery.MaxLimit}.", "limit");
        if (!StatementCursor.TryDecode(request.After, out after))
            return new("invalid_cursor", "'after' is not a cursor this endpoint returned.", "after");
        return null;
    }

    private static StatementOutcome.Invalid? Instant(string? text, string name, out DateTimeOffset? value) =>
        Instants.TryParse(text, out value) ? null
            : new("invalid_query", $"'{name}' must be an ISO 8601 instant such as 2026-01-31T00:00:00Z.", name);
}
