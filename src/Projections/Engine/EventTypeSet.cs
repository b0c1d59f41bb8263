namespace Steller.Projections.Engine;

/// <summary>Stored event names a subscriber reads, put together from the registry's sets (<c>EventNames.Of&lt;T&gt;()</c>).</summary>
public static class EventTypeSet
{
    public static IReadOnlySet<string> Union(params IEnumerable<IReadOnlySet<string>> sets) =>
        sets.SelectMany(s => s).ToHashSet(StringComparer.Ordinal);
}
