using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;

namespace Steller.Application.Commands;

/// <summary>
/// What <see cref="AggregateCommands{TState,TCommand,TEvent}"/> needs to know of one aggregate: its name (for metrics and
/// logs), its state before the first event, its two pure functions, and optionally what to count once events are durable
/// (business counters in /metrics). With a <paramref name="SnapshotVersion"/> its states are snapshotted (see
/// <see cref="SnapshotFormat{TState}"/>): bump it whenever the fold (Evolve) changes what a state means.
/// </summary>
public sealed record Aggregate<TState, TCommand, TEvent>(
    string Name,
    TState Initial,
    Func<TState, TEvent, TState> Evolve,
    Func<TCommand, TState, Decision<TEvent>> Decide,
    Action<TEvent>? Appended = null,
    int? SnapshotVersion = null)
    where TEvent : class;

public static class AggregateRegistration
{
    /// <summary>Registers the one command service of an aggregate (a singleton: its lanes and cache are per process).</summary>
    public static IServiceCollection AddAggregate<TState, TCommand, TEvent>(this IServiceCollection services, Aggregate<TState, TCommand, TEvent> aggregate)
        where TEvent : class =>
        services.AddSingleton(sp => new AggregateCommands<TState, TCommand, TEvent>(aggregate, sp.GetRequiredService<IEventStore>(),
            sp.GetRequiredService<EventTypeRegistry>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger($"Steller.Commands.{aggregate.Name}"),
            snapshots: sp.GetService<ISnapshotStore>(), snapshotSettings: sp.GetService<SnapshotSettings>()));
}
