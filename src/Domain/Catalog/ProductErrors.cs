namespace Steller.Domain.Catalog;

public static class ProductErrors
{
    public static readonly DomainError InvalidSku = new("invalid_sku", "A sku is 1–64 of a-z, 0-9 and '-', not starting with '-'.");
    public static readonly DomainError UnknownSku = new("unknown_sku", "No product with this sku.");
    public static readonly DomainError Delisted = new("product_delisted", "The product is delisted.");
    public static readonly DomainError SourceConflict = new("product_source_conflict",
        "This sku belongs to another source or vendor product id; a sku never changes owner.");
    public static readonly DomainError InvalidSource = new("invalid_source",
        "The source is 'stocked' or a vendor id (a-z, 0-9, '-'); vendor products need a vendor product id, stocked ones have none.");
    public static readonly DomainError InvalidName = new("invalid_name", "A name is 1–200 characters.");
    public static readonly DomainError InvalidBrand = new("invalid_brand", "A brand is 1–100 characters.");
    public static readonly DomainError InvalidCountry = new("invalid_country", "A country is an ISO 3166-1 alpha-2 code such as DE.");
    public static readonly DomainError InvalidCurrency = new("invalid_currency", "A currency is an ISO 4217 code such as EUR.");
    public static readonly DomainError InvalidProductType = new("invalid_product_type", "A product type is gift_card, top_up or voucher.");
    public static readonly DomainError InvalidFaceValue = new("invalid_face_value",
        "A face value is either fixed (> 0) or a range with 0 < min ≤ max, never both.");
    public static readonly DomainError InvalidCost = new("invalid_cost",
        "A cost is either an absolute amount ≥ 0 (fixed face value only) or a discount of 0–10000 basis points, never both.");
    public static readonly DomainError InvalidReason = new("invalid_reason", "A reason is 1–100 characters.");
    public static readonly DomainError FaceValueOutOfRange = new("face_value_out_of_range",
        "The requested face value is not offered: a fixed product takes exactly its face value, a range product one within min..max.");
    public static readonly DomainError InvalidQuantity = new("invalid_quantity", "A quantity is a whole number from 1 to 1000.");
}
