using System.Security.Cryptography;
using System.Text;

namespace Steller.Domain.Orders;

/// <summary>The order's stream "order-{orderId}", and the order id itself, derived from the partner's client reference.</summary>
public sealed partial record Order
{
    public const string StreamPrefix = "order-";

    public static string StreamName(string orderId) => StreamPrefix + orderId;

    public static bool TryParseStreamName(string streamId, out string orderId)
    {
        orderId = streamId.StartsWith(StreamPrefix, StringComparison.Ordinal) ? streamId[StreamPrefix.Length..] : "";
        return orderId.Length > 0;
    }

    /// <summary>
    /// The order id of a partner's client reference: "ord-" + 26 base32 characters of SHA-256(partner id, reference).
    /// Deterministic, so concurrent duplicates meet on one stream, and the same id serves as the wallet hold's transfer
    /// id and the stock reservations' order id.
    /// </summary>
    public static string IdFor(string partnerId, string clientReference)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{partnerId}\n{clientReference}"));
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var id = new StringBuilder("ord-", 30);
        for (var bit = 0; id.Length < 30; bit += 5)
        {
            var value = ((hash[bit / 8] << 8 | hash[bit / 8 + 1]) >> (11 - bit % 8)) & 31;
            id.Append(alphabet[value]);
        }
        return id.ToString();
    }

    public static bool IsValidId(string? id) =>
        id is { Length: 30 } && id.StartsWith("ord-", StringComparison.Ordinal)
            && id[4..].All(c => c is (>= 'a' and <= 'z') or (>= '2' and <= '7'));
}
