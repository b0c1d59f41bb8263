using FluentAssertions;

namespace Steller.Domain.Tests;

/// <summary>
/// Given events, when a command, then events or an error: one base for every aggregate's specifications. A spec names
/// its aggregate's pure functions and, where a test needs one, the state every <see cref="Given"/> starts from.
/// </summary>
public abstract class AggregateSpec<TSpec, TState, TCommand, TEvent>(
    TState empty,
    Func<TState, TEvent, TState> evolve,
    Func<TCommand, TState, Decision<TEvent>> decide)
    where TSpec : AggregateSpec<TSpec, TState, TCommand, TEvent>
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private readonly TState initial = empty;
    private TState state = empty;
    private Decision<TEvent>? decision;

    /// <summary>What <see cref="Given"/> starts from (the empty state unless a spec says otherwise, e.g. an opened wallet).</summary>
    protected virtual IEnumerable<TEvent> Background => [];

    private TSpec Self => (TSpec)this;

    public TSpec Given(params TEvent[] events)
    {
        state = Background.Concat(events).Aggregate(initial, evolve);
        return Self;
    }

    /// <summary>No stream at all: not even the <see cref="Background"/>.</summary>
    public TSpec GivenNothing()
    {
        state = initial;
        return Self;
    }

    public TSpec When(TCommand command)
    {
        decision = decide(command, state);
        if (!decision.Failed) state = decision.Events.Aggregate(state, evolve);
        return Self;
    }

    public TSpec Then(params TEvent[] expected)
    {
        decision!.Error.Should().BeNull();
        decision.Events.Should().BeEquivalentTo(expected, o => o.RespectingRuntimeTypes().WithStrictOrdering());
        return Self;
    }

    public TSpec ThenNothingNew()
    {
        decision!.Error.Should().BeNull();
        decision.IsNoOp.Should().BeTrue("a repeat is a no-op");
        return Self;
    }

    public TSpec ThenFails(DomainError error)
    {
        decision!.Error.Should().Be(error);
        return Self;
    }

    /// <summary>Any check of the events the command emitted.</summary>
    public TSpec ThenEvents(Action<IReadOnlyList<TEvent>> check)
    {
        decision!.Error.Should().BeNull();
        check(decision.Events);
        return Self;
    }

    /// <summary>The state after the command (or after <see cref="Given"/> when no command ran).</summary>
    public TSpec AndState(Action<TState> check)
    {
        check(state);
        return Self;
    }
}
