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
/// <see cref="SnapshotFormat{TState}"/>): bump it whenever the fold (Evolve) changes what a state means. With a
/// <paramref name="Memory"/> its states stay bounded (see <see cref="AggregateMemory{TState,TCommand,TEvent}"/>).
/// </summary>
public sealed record Aggregate<TState, TCommand, TEvent>(
    string Name,
    TState Initial,
    Func<TState, TEvent, TState> Evolve,
    Func<TCommand, TState, Decision<TEvent>> Decide,
    Action<TEvent>? Appended = null,
    int? SnapshotVersion = null,
    AggregateMemory<TState, TCommand, TEvent>? Memory = null)
    where TEvent : class;

/// <summary>
/// How a state forgets what only repeats need and gets it back for the commands that name it, so that the cached and
/// snapshotted state stays bounded while every decision is the full fold's. Used only with a store that finds events by
/// transfer id (<see cref="IEventsByTransferId"/>); with any other the state is the full fold.
/// </summary>
/// <param name="Forget">The state with its closed records dropped when it holds more than the given number of them; else itself.</param>
/// <param name="IsLean">True when the state may have forgotten records (a snapshot of such a state needs the lookup).</param>
/// <param name="Unknown">The keys whose records the command's decision reads and the state may lack.</param>
/// <param name="TransferIdsFor">The transfer ids of the events that write those keys' records.</param>
/// <param name="Recall">The state with the keys' records folded from those events (all of them up to the state's revision, in order).</param>
/// <param name="RememberAtMost">Closed records a state keeps before it forgets them.</param>
public sealed record AggregateMemory<TState, TCommand, TEvent>(
    Func<TState, int, TState> Forget,
    Func<TState, bool> IsLean,
    Func<TCommand, TState, IReadOnlyList<string>> Unknown,
    Func<IEnumerable<string>, IReadOnlyCollection<string>> TransferIdsFor,
    Func<TState, IReadOnlyCollection<string>, IEnumerable<TEvent>, TState> Recall,
    int RememberAtMost)
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
