using Microsoft.Extensions.DependencyInjection;
using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

/// <summary>
/// A process manager: reacts to events with commands and writes no read model. It rides the engine like a projection
/// (its own checkpoint under <see cref="Name"/>, one runner across nodes, a failing batch retried from the checkpoint,
/// its line in <c>steller projections status</c>), so its handling must be idempotent: a batch may run again after a
/// crash, and a rebuild replays history. It runs with no database transaction open (see <see cref="BatchApplier"/>):
/// it may call vendors and wait as long as it needs without holding back the log.
/// </summary>
public interface IProcessManager
{
    /// <summary>Stable name, used for its checkpoint.</summary>
    string Name { get; }

    /// <summary>The stored event names it reacts to (ask <c>EventNames.Of&lt;T&gt;()</c>, never spell them).</summary>
    IReadOnlySet<string> EventTypes { get; }

    /// <summary>
    /// Handles one batch (in log order), outside any transaction; the checkpoint moves after it returns (at most once a
    /// second: a restart may hand the events handled since the last move again). Throwing stops the
    /// batch; the engine retries it from the checkpoint.
    /// </summary>
    Task Handle(IReadOnlyList<RecordedEvent> events, CancellationToken ct);
}

/// <summary>
/// How the engine runs a process manager: a subscription that owns no tables and has no shape to version.
/// <see cref="BatchApplier"/> recognises it and hands batches to <see cref="Manager"/> outside its transaction.
/// </summary>
public sealed class ProcessManagerSubscription(IProcessManager manager) : IProjection
{
    public IProcessManager Manager => manager;
    public string Name => manager.Name;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => manager.EventTypes;
    public IReadOnlyList<string> Tables => [];
    public string CreateTablesSql(string schema) => "";
    public Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context) => manager.Handle(events, context.CancellationToken);
    /// <summary>A process manager never skips an event: skipping would lose the command it owes.</summary>
    public OnPoisonEvent OnPoison => OnPoisonEvent.Stop;
}

public static class ProcessManagerRegistration
{
    /// <summary>Registers <typeparamref name="TManager"/> and runs it on the engine (it is listed with the projections).</summary>
    public static IServiceCollection AddProcessManager<TManager>(this IServiceCollection services) where TManager : class, IProcessManager
    {
        services.AddSingleton<TManager>();
        services.AddSingleton<IProcessManager>(sp => sp.GetRequiredService<TManager>());
        services.AddSingleton<IProjection>(sp => new ProcessManagerSubscription(sp.GetRequiredService<TManager>()));
        return services;
    }
}
