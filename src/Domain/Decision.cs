namespace Steller.Domain;

/// <summary>A domain error: a stable machine code (mapped to HTTP problem details at the edge) and a human message.</summary>
public sealed record DomainError(string Code, string Message);

/// <summary>What <c>Decide</c> returns: events to append, nothing (already done), or a domain error.</summary>
public sealed record Decision<TEvent>
{
    private Decision(IReadOnlyList<TEvent> events, DomainError? error) => (Events, Error) = (events, error);

    public IReadOnlyList<TEvent> Events { get; }
    public DomainError? Error { get; }
    public bool Failed => Error is not null;
    public bool IsNoOp => Error is null && Events.Count == 0;

    public static Decision<TEvent> Emit(params TEvent[] events) => new(events, null);
    public static Decision<TEvent> AlreadyDone() => new([], null);
    public static Decision<TEvent> Fail(DomainError error) => new([], error);
}
