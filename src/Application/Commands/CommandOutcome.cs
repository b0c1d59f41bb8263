using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain;

namespace Steller.Application.Commands;

/// <summary>
/// What one command did: the aggregate state right after its own decision, the stream revision once its batch was
/// appended, the events it added (none for a repeat), or the domain error that refused it.
/// </summary>
public sealed record CommandOutcome<TState>(TState State, long Revision, IReadOnlyList<object> NewEvents, DomainError? Error, LogPosition Position) : IRefusable
{
    public bool Succeeded => Error is null;
    /// <summary>True when the command changed nothing because it had already been done (idempotent repeat).</summary>
    public bool WasRepeat => Error is null && NewEvents.Count == 0;
}
