using MediatR;
using Steller.Application.Pipeline;

namespace Steller.Projections.Partners.ReadingGrowth;

/// <summary>
/// The growth report (GET /admin/reports/growth) over UTC days <paramref name="From"/>..<paramref name="To"/> (yyyy-MM-dd,
/// both inclusive, rounded out to whole weeks or months), at most <see cref="MaxDays"/> days.
/// </summary>
public sealed record ReadGrowthRequest(string? From, string? To, string? Granularity) : IRequest<GrowthReport>, IValidated
{
    public const int MaxDays = 3 * 366;

    public void Validate(FieldErrors errors)
    {
        errors.Check(TryDay(From, out var fromDay), "from", "required: a UTC day, yyyy-MM-dd (inclusive)")
            .Check(TryDay(To, out var toDay), "to", "required: a UTC day, yyyy-MM-dd (inclusive)")
            .Check(Granularity is null or "week" or "month", "granularity", "week or month (default month)");
        if (!errors.Any) errors.Check(fromDay <= toDay && toDay.DayNumber - fromDay.DayNumber < MaxDays,
            "to", $"on or after 'from', at most {MaxDays} days in all");
    }

    internal static bool TryDay(string? text, out DateOnly day) => DateOnly.TryParseExact(text, "yyyy-MM-dd", out day);
}

public sealed class ReadGrowthHandler(PartnersQuery query) : IRequestHandler<ReadGrowthRequest, GrowthReport>
{
    public Task<GrowthReport> Handle(ReadGrowthRequest r, CancellationToken ct)
    {
        ReadGrowthRequest.TryDay(r.From, out var from);
        ReadGrowthRequest.TryDay(r.To, out var to);
        return query.Growth(from, to, r.Granularity ?? "month", ct);
    }
}
