using MediatR;
using Steller.Application.Pipeline;
using Steller.Domain.Partners;

namespace Steller.Projections.Orders.ReadingDailyStats;

/// <summary>
/// read.partner_daily_stats for one partner (or all) over UTC days <paramref name="From"/>..<paramref name="To"/>, both
/// inclusive and given as yyyy-MM-dd, at most <see cref="MaxDays"/> days in all.
/// </summary>
public sealed record ReadDailyStatsRequest(string? PartnerId, string? From, string? To)
    : IRequest<IReadOnlyList<PartnerDailyStat>>, IValidated
{
    public const int MaxDays = 366;

    public void Validate(FieldErrors errors)
    {
        errors.Check(PartnerId is null || Partner.IsValidId(PartnerId), "partnerId", "a partner id")
            .Check(TryDay(From, out var fromDay), "from", "required: a UTC day, yyyy-MM-dd (inclusive)")
            .Check(TryDay(To, out var toDay), "to", "required: a UTC day, yyyy-MM-dd (inclusive)");
        if (!errors.Any) errors.Check(fromDay <= toDay && toDay.DayNumber - fromDay.DayNumber < MaxDays,
            "to", $"on or after 'from', at most {MaxDays} days in all");
    }

    internal static bool TryDay(string? text, out DateOnly day) => DateOnly.TryParseExact(text, "yyyy-MM-dd", out day);
}

public sealed class ReadDailyStatsHandler(OrdersQuery query) : IRequestHandler<ReadDailyStatsRequest, IReadOnlyList<PartnerDailyStat>>
{
    public Task<IReadOnlyList<PartnerDailyStat>> Handle(ReadDailyStatsRequest request, CancellationToken ct)
    {
        ReadDailyStatsRequest.TryDay(request.From, out var from);
        ReadDailyStatsRequest.TryDay(request.To, out var to);
        return query.DailyStats(request.PartnerId, from, to, ct);
    }
}
