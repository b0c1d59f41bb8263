using System.Reflection;
using Steller.Domain;

namespace Steller.Application.Serialization;

/// <summary>The stored names of an aggregate's events, for projections that subscribe to exactly those.</summary>
public static class EventNames
{
    /// <summary>
    /// Every [EventName] of the classes implementing <typeparamref name="TEvent"/>, plus the older names the domain's
    /// registry reads through upcasters into one of them (stored events keep the name they were written with).
    /// </summary>
    public static IReadOnlySet<string> Of<TEvent>()
    {
        var current = typeof(TEvent).Assembly.GetTypes()
            .Where(t => typeof(TEvent).IsAssignableFrom(t) && t.GetCustomAttribute<EventNameAttribute>() is not null)
            .Select(t => t.GetCustomAttribute<EventNameAttribute>()!.Name)
            .ToHashSet(StringComparer.Ordinal);
        var older = EventTypeRegistry.DomainUpcasts.Where(u => current.Contains(u.To)).Select(u => u.From);
        return current.Concat(older).ToHashSet(StringComparer.Ordinal);
    }
}
