using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.SettingRateLimit;

public sealed record SetRateLimitRequest(string PartnerId, int RequestsPerSecond, int Burst, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Partner>>;

/// <summary>Records the partner's request rate limit; every node reads it from the partner's stream with the request's key.</summary>
public sealed class SetRateLimitHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners)
    : IRequestHandler<SetRateLimitRequest, CommandOutcome<Partner>>
{
    public Task<CommandOutcome<Partner>> Handle(SetRateLimitRequest request, CancellationToken ct) =>
        partners.ExecuteOn(request.PartnerId, new SetRateLimit(request.RequestsPerSecond, request.Burst), request.Metadata, request.IfMatch,
            ct: ct);
}
