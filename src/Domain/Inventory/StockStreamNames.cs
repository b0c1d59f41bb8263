namespace Steller.Domain.Inventory;

/// <summary>
/// The stock item's stream: "stock-{sku}.{location}". The separator is a '.' (never part of an id) so that no two
/// (sku, location) pairs can share a stream: with '-' "a-b"/"c" and "a"/"b-c" would.
/// </summary>
public sealed partial record Stock
{
    public const string StreamPrefix = "stock-";

    public static string StreamName(string sku, string location) => $"{StreamPrefix}{sku}.{location}";

    public static bool TryParseStreamName(string streamId, out string sku, out string location)
    {
        sku = location = "";
        if (!streamId.StartsWith(StreamPrefix, StringComparison.Ordinal)) return false;
        var rest = streamId[StreamPrefix.Length..];
        var dot = rest.IndexOf('.');
        if (dot < 0) return false;
        (sku, location) = (rest[..dot], rest[(dot + 1)..]);
        return IsValidId(sku) && IsValidId(location);
    }
}
