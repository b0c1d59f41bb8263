using System.Collections;
using System.Reflection;
using System.Text;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Catalog;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;
using Steller.Testing;

namespace Steller.Projections.Tests.Hostile;

/// <summary>
/// Every event type of the domain, built by reflection with one hostile value in every string (or every number) it
/// carries, in the aggregate's own stream, in declaration order (the order of an aggregate's life). Nothing is
/// hand-picked: a new event type is fed to every projection as soon as it exists.
/// </summary>
public static class HostileEvents
{
    /// <summary>Stands for a lone surrogate: the serializer writes one as U+FFFD, so it goes into the JSON as "\ud800" by hand.</summary>
    public const string LoneSurrogateMarker = "LONE-SURROGATE-MARKER";

    public sealed record Variant(string Name, string Text, long Long, int Int);

    /// <summary>Hostile text, each with ordinary numbers.</summary>
    public static readonly IReadOnlyList<Variant> Strings =
    [
        new("nul", "a\u0000b", 1, 1),
        new("lone-surrogate", $"x{LoneSurrogateMarker}y", 1, 1),
        new("rtl-override", "\u202eevil\n\u0007", 1, 1),
        new("hundred-kb", RandomText(100_000), 1, 1),
    ];

    /// <summary>Extreme numbers (long and int bounds wherever the event type has a number), with ordinary text.</summary>
    public static readonly IReadOnlyList<Variant> Numbers =
    [
        new("long-max", "ok", long.MaxValue, int.MaxValue),
        new("long-min", "ok", long.MinValue, int.MinValue),
    ];

    private static readonly EventTypeRegistry Registry = EventTypeRegistry.ForDomain();

    /// <summary>The events of <paramref name="variant"/>, one stream per aggregate, ready to append.</summary>
    public static IReadOnlyList<(string Stream, EventData Event)> For(Variant variant)
    {
        var id = new string(variant.Name.Where(char.IsAsciiLetterOrDigit).ToArray());
        var streams = new (Type Kind, string Stream)[]
        {
            (typeof(IPartnerEvent), Partner.StreamName($"p{id}")),
            (typeof(IWalletEvent), Wallet.StreamName($"p{id}", "EUR")),
            (typeof(IProductEvent), Product.StreamName($"sku{id}")),
            (typeof(IStockEvent), Stock.StreamName($"sku{id}", "main")),
            (typeof(IOrderEvent), Order.StreamName($"o{id}")),
        };
        var result = new List<(string, EventData)>();
        foreach (var (kind, stream) in streams)
            foreach (var type in typeof(EventNameAttribute).Assembly.GetTypes()
                         .Where(t => kind.IsAssignableFrom(t) && t.GetCustomAttribute<EventNameAttribute>() is not null)
                         .OrderBy(t => t.MetadataToken))
            {
                var json = Encoding.UTF8.GetString(Registry.Serialize(Build(type, variant)!))
                    .Replace(LoneSurrogateMarker, "\\ud800", StringComparison.Ordinal);
                result.Add((stream, new EventData(Guid.NewGuid(), Registry.NameOf(type), Encoding.UTF8.GetBytes(json), Events.Metadata())));
            }
        return result;
    }

    private static object? Build(Type type, Variant v)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string)) return v.Text;
        if (underlying == typeof(long)) return v.Long;
        if (underlying == typeof(int)) return v.Int;
        if (underlying == typeof(bool)) return true;
        if (underlying == typeof(DateTimeOffset)) return DateTimeOffset.UtcNow;
        if (underlying == typeof(DateOnly)) return DateOnly.FromDateTime(DateTime.UtcNow);
        if (underlying == typeof(Guid)) return Guid.NewGuid();
        if (underlying.IsGenericType && typeof(IEnumerable).IsAssignableFrom(underlying))
        {
            var element = underlying.GetGenericArguments()[0];
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            list.Add(Build(element, v));
            return list;
        }
        var constructor = underlying.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        return constructor.Invoke(constructor.GetParameters().Select(p => Build(p.ParameterType, v)).ToArray());
    }

    private static string RandomText(int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éßж中";
        var random = new Random(12);
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = alphabet[r.Next(alphabet.Length)];
        });
    }
}
