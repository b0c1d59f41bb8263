namespace Steller.Domain.Catalog;

/// <summary>The product types Steller sells.</summary>
public static class ProductTypes
{
    public const string GiftCard = "gift_card", TopUp = "top_up", Voucher = "voucher";
    public static readonly IReadOnlyList<string> All = [GiftCard, TopUp, Voucher];
}

/// <summary>
/// Everything about a product except its cost. <see cref="Source"/> is "stocked" or the vendor it comes from.
/// Face value: fixed, or a range [<see cref="MinFaceValue"/>, <see cref="MaxFaceValue"/>], in minor units.
/// </summary>
public sealed record ProductDetails(
    string Source, string? VendorProductId, string Name, string Brand, string Country, string Currency, string ProductType,
    long? FixedFaceValue, long? MinFaceValue, long? MaxFaceValue)
{
    public const string Stocked = "stocked";
    public bool IsStocked => Source == Stocked;
    public bool IsRange => FixedFaceValue is null;
}

/// <summary>
/// What the vendor (or Steller's stock) charges: an absolute amount in minor units, or a discount in basis points off the face value.
/// </summary>
public sealed record ProductCost(long? Amount, int? DiscountBasisPoints)
{
    public static ProductCost Absolute(long amount) => new(amount, null);
    public static ProductCost Discount(int basisPoints) => new(null, basisPoints);
}

/// <summary>
/// One catalog product (stream "product-{sku}"). Listing is idempotent by content: the same content again is a
/// no-op; other details on an active product are a <see cref="ProductUpdated"/>, another cost a
/// <see cref="ProductCostChanged"/>; listing a delisted product lists it again. A sku never changes its source
/// or vendor product id (<see cref="ProductErrors.SourceConflict"/>).
/// </summary>
public sealed record Product(string? Sku, ProductDetails? Details, ProductCost? Cost, bool Active)
{
    public static readonly Product Empty = new(null, null, null, false);

    public bool Exists => Sku is not null;

    public static string StreamName(string sku) => $"{StreamPrefix}{sku}";
    public const string StreamPrefix = "product-";

    public static bool TryParseStreamName(string streamId, out string sku)
    {
        sku = streamId.StartsWith(StreamPrefix, StringComparison.Ordinal) ? streamId[StreamPrefix.Length..] : "";
        return IsValidSku(sku);
    }

    /// <summary>Skus: 1–64 of a-z, 0-9 and '-', not starting with '-'.</summary>
    public static bool IsValidSku(string? sku) =>
        sku is { Length: >= 1 and <= 64 } && sku[0] != '-' && sku.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    public static Product Evolve(Product s, IProductEvent e) => e switch
    {
        ProductListed l => new Product(l.Sku,
            new ProductDetails(l.Source, l.VendorProductId, l.Name, l.Brand, l.Country, l.Currency, l.ProductType, l.FixedFaceValue,
                l.MinFaceValue, l.MaxFaceValue),
            new ProductCost(l.CostAmount, l.CostDiscountBasisPoints), true),
        ProductUpdated u => s with
        {
            Details = s.Details! with
            {
                Name = u.Name, Brand = u.Brand, Country = u.Country, Currency = u.Currency, ProductType = u.ProductType,
                FixedFaceValue = u.FixedFaceValue, MinFaceValue = u.MinFaceValue, MaxFaceValue = u.MaxFaceValue,
            },
        },
        ProductCostChanged c => s with { Cost = new ProductCost(c.NewCostAmount, c.NewCostDiscountBasisPoints) },
        ProductDelisted => s with { Active = false },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown product event."),
    };

    public static Decision<IProductEvent> Decide(IProductCommand command, Product s) => command switch
    {
        ListProduct c => DecideList(c, s),
        ChangeCost c => !s.Exists ? Fail(ProductErrors.UnknownSku)
                      : !s.Active ? Fail(ProductErrors.Delisted)
                      : Validate(s.Details!, c.Cost) is { } error ? Fail(error)
                      : c.Cost == s.Cost ? Decision<IProductEvent>.AlreadyDone()
                      : Decision<IProductEvent>.Emit(CostChanged(s, c.Cost, c.Now)),
        DelistProduct c => !s.Exists ? Fail(ProductErrors.UnknownSku)
                         : string.IsNullOrWhiteSpace(c.Reason) || c.Reason.Length > 100 ? Fail(ProductErrors.InvalidReason)
                         : !s.Active ? Decision<IProductEvent>.AlreadyDone()
                         : Decision<IProductEvent>.Emit(new ProductDelisted(s.Sku!, c.Reason, c.Now)),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown product command."),
    };

    private static Decision<IProductEvent> DecideList(ListProduct c, Product s)
    {
        if (!IsValidSku(c.Sku)) return Fail(ProductErrors.InvalidSku);
        if (Validate(c.Details, c.Cost) is { } error) return Fail(error);
        var d = c.Details;
        if (s.Exists && (s.Details!.Source != d.Source || s.Details.VendorProductId != d.VendorProductId))
            return Fail(ProductErrors.SourceConflict);
        if (!s.Exists || !s.Active)
            return Decision<IProductEvent>.Emit(new ProductListed(c.Sku, d.Source, d.VendorProductId, d.Name, d.Brand, d.Country,
                d.Currency, d.ProductType,
                d.FixedFaceValue, d.MinFaceValue, d.MaxFaceValue, c.Cost.Amount, c.Cost.DiscountBasisPoints, c.Now));
        var events = new List<IProductEvent>();
        if (d != s.Details)
            events.Add(new ProductUpdated(s.Sku!, d.Name, d.Brand, d.Country, d.Currency, d.ProductType, d.FixedFaceValue, d.MinFaceValue,
                d.MaxFaceValue, c.Now));
        if (c.Cost != s.Cost) events.Add(CostChanged(s, c.Cost, c.Now));
        return events.Count == 0 ? Decision<IProductEvent>.AlreadyDone() : Decision<IProductEvent>.Emit([.. events]);
    }

    private static ProductCostChanged CostChanged(Product s, ProductCost cost, DateTimeOffset now) =>
        new(s.Sku!, s.Cost!.Amount, s.Cost.DiscountBasisPoints, cost.Amount, cost.DiscountBasisPoints, now);

    /// <summary>The first rule <paramref name="d"/> and <paramref name="cost"/> break, or null when they form a valid product.</summary>
    public static DomainError? Validate(ProductDetails d, ProductCost cost)
    {
        var vendorOk = d.IsStocked ? d.VendorProductId is null
            : IsValidSku(d.Source) && d.VendorProductId is { Length: >= 1 and <= 200 };
        if (!vendorOk) return ProductErrors.InvalidSource;
        if (string.IsNullOrWhiteSpace(d.Name) || d.Name.Length > 200) return ProductErrors.InvalidName;
        if (string.IsNullOrWhiteSpace(d.Brand) || d.Brand.Length > 100) return ProductErrors.InvalidBrand;
        if (d.Country is not { Length: 2 } || !d.Country.All(char.IsAsciiLetterUpper)) return ProductErrors.InvalidCountry;
        if (!Domain.Currency.TryParse(d.Currency, out _)) return ProductErrors.InvalidCurrency;
        if (!ProductTypes.All.Contains(d.ProductType)) return ProductErrors.InvalidProductType;
        var faceOk = d.FixedFaceValue is { } f
            ? f > 0 && d.MinFaceValue is null && d.MaxFaceValue is null
            : d.MinFaceValue is { } min && d.MaxFaceValue is { } max && min > 0 && min <= max;
        if (!faceOk) return ProductErrors.InvalidFaceValue;
        if ((d.FixedFaceValue ?? d.MaxFaceValue) > Money.MaxMinorUnits || cost.Amount > Money.MaxMinorUnits) return Money.AmountOutOfRange;
        var costOk = cost switch
        {
            { Amount: { } a, DiscountBasisPoints: null } => a >= 0 && !d.IsRange,
            { Amount: null, DiscountBasisPoints: { } bp } => bp is >= 0 and <= 10_000,
            _ => false,
        };
        return costOk ? null : ProductErrors.InvalidCost;
    }

    private static Decision<IProductEvent> Fail(DomainError error) => Decision<IProductEvent>.Fail(error);
}
