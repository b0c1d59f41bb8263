namespace Steller.Domain.Catalog;

/// <summary>What can be asked of a product. Time arrives on the command; the domain reads no clock.</summary>
public interface IProductCommand;

/// <summary>From the catalog sync (a vendor's product) or an admin defining a stocked product. Idempotent by content.</summary>
public sealed record ListProduct(string Sku, ProductDetails Details, ProductCost Cost, DateTimeOffset Now) : IProductCommand;
public sealed record ChangeCost(ProductCost Cost, DateTimeOffset Now) : IProductCommand;
public sealed record DelistProduct(string Reason, DateTimeOffset Now) : IProductCommand;
