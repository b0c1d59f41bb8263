using System.Security.Cryptography;
using System.Text;

namespace Steller.Domain.Catalog;

/// <summary>
/// The sku of a vendor product, deterministic: "{vendor}-{id}" where id is the vendor product id normalised to
/// lowercase a-z0-9 with every run of other characters turned into one '-' (trimmed at both ends).
/// <para>
/// Normalising can merge ids ("ABC_1" and "abc-1" both give "abc-1"), so it is only used bare when it is lossless:
/// when the vendor product id already IS its normalised form (and fits in 64 characters with the prefix). Any other
/// id gets a suffix "-" + the first 8 hex digits of SHA-256(vendor product id), truncating the readable part to fit:
/// "ABC_1" → "giftcard-abc-1-" + hash, "abc-1" → "giftcard-abc-1". Distinct lossless ids give distinct skus; a
/// clash after hashing is still caught: the sync refuses two products with one sku in one catalog, and a product
/// stream refuses another vendor product id (<see cref="ProductErrors.SourceConflict"/>).
/// </para>
/// </summary>
public static class Skus
{
    public const int MaxLength = 64, HashLength = 8;

    public static string ForVendorProduct(string vendor, string vendorProductId)
    {
        if (!Product.IsValidSku(vendor) || vendor.Length > 40)
            throw new ArgumentException($"'{vendor}' is not a usable vendor id (a-z, 0-9, '-', at most 40).", nameof(vendor));
        var prefix = vendor + "-";
        var normalised = Normalise(vendorProductId);
        var budget = MaxLength - prefix.Length;
        if (normalised.Length > 0 && normalised == vendorProductId && normalised.Length <= budget) return prefix + normalised;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(vendorProductId)))[..HashLength];
        var readable = normalised.Length > budget - HashLength - 1 ? normalised[..(budget - HashLength - 1)].TrimEnd('-') : normalised;
        return readable.Length == 0 ? prefix + hash : $"{prefix}{readable}-{hash}";
    }

    /// <summary>Lowercase a-z0-9; every run of anything else becomes one '-'; no '-' at either end.</summary>
    public static string Normalise(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text.ToLowerInvariant())
        {
            if (ch is (>= 'a' and <= 'z') or (>= '0' and <= '9')) sb.Append(ch);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        return sb.ToString().TrimEnd('-');
    }
}
