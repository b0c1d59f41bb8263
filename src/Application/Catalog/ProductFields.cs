using Steller.Application.Pipeline;
using Steller.Domain.Catalog;

namespace Steller.Application.Catalog;

/// <summary>The field rules the product requests share.</summary>
public static class ProductFields
{
    public const string SkuRule = "1–64 of a-z, 0-9 and '-', not starting with '-'";

    public static FieldErrors Sku(this FieldErrors errors, string sku) => errors.Check(Product.IsValidSku(sku), "sku", SkuRule);
}
