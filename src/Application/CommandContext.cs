using Steller.Application.EventStore;

namespace Steller.Application;

/// <summary>Who asks and under which correlation: becomes the metadata of every event the command appends.</summary>
public sealed record CommandContext(string CorrelationId, string Actor, Guid CommandId, string? CausationId = null)
{
    public static CommandContext New(string correlationId, string actor) => new(correlationId, actor, Guid.NewGuid());

    public EventMetadata Metadata(DateTimeOffset recordedAt) =>
        new(CorrelationId, CausationId ?? CommandId.ToString(), CommandId, Actor, recordedAt);
}
