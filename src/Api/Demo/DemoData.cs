using MediatR;
using Steller.Application.Partners.ViewingPartner;
using Steller.Application;
using Steller.Domain.Partners;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Partners;
using Steller.Application.Partners.IssuingApiKey;
using Steller.Application.Partners.OnboardingPartner;
using Steller.Application.Time;
using Steller.Domain.Wallets;
using Steller.Infrastructure.Admin;

using Steller.Application.Catalog;
using Steller.Application.Inventory;
using Steller.Domain.Catalog;
using Steller.Domain.Inventory;

namespace Steller.Api.Demo;

/// <summary>
/// Sandbox data for ./run.sh (Demo:Seed=true, Development only): a partner "demo" with a funded EUR wallet, an API
/// key and an admin token. Every step is idempotent. The secrets are shown once, so they are written once to
/// Demo:CredentialsFile (git-ignored .steller/demo.txt, mode 600) and never to a log.
/// </summary>
public sealed class DemoData(IMediator mediator, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets, AdminTokens adminTokens,
    CatalogSync catalogSync,
    AggregateCommands<Product, IProductCommand, IProductEvent> products, AggregateCommands<Stock, IStockCommand, IStockEvent> stock,
    VoucherCodes vouchers, IClock clock, ILogger<DemoData> logger)
{
    public const string PartnerId = "demo";

    public async Task Seed(string credentialsFile, string baseUrl, CancellationToken ct)
    {
        var metadata = new EventMetadata("demo-seed", "demo-seed", Guid.NewGuid(), "system:demo", clock.UtcNow);
        if (await mediator.Send(new GetPartnerRequest(PartnerId), ct) is null)
            await mediator.Send(new OnboardPartnerRequest(PartnerId, "Demo Partner", "demo@example.com", null, metadata), ct);
        await wallets.Execute(Wallet.StreamName(PartnerId, "EUR"), new OpenWallet(PartnerId, "EUR"), metadata, ct: ct);
        await wallets.Execute(Wallet.StreamName(PartnerId, "EUR"), new Deposit("demo-seed-funding", 1_000_00, "demo funding"), metadata,
            ct: ct);
        await SeedCatalog(metadata, ct);

        if (File.Exists(credentialsFile))
        {
            logger.LogInformation("Demo data present; credentials in {File}", credentialsFile);
            return;
        }
        var key = (await mediator.Send(new IssueApiKeyRequest(PartnerId, metadata), ct)).Key;
        var (_, token) = await adminTokens.Create($"demo-admin-{clock.UtcNow:yyyyMMddHHmmss}", AdminRoles.Admin, clock.UtcNow, ct: ct);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(credentialsFile))!);
        await File.WriteAllTextAsync(credentialsFile, $"""
            # Steller sandbox credentials (written once by ./run.sh; delete this file to get new ones).
            # Admin API: Authorization: Bearer <token>
            export STELLER_ADMIN_TOKEN={token}
            # Demo partner "{PartnerId}" (EUR wallet funded with 1000.00): sign /v1 requests with RFC 9421 (see README).
            export STELLER_PARTNER_KEY_ID={key!.KeyId}
            export STELLER_PARTNER_SECRET={key.Secret}
            export STELLER_BASE_URL={baseUrl}
            """, ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(credentialsFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        logger.LogInformation("Demo partner {Partner} seeded; credentials written to {File}", PartnerId, credentialsFile);
    }

    /// <summary>
    /// The sandbox vendors' catalogs (synced now rather than a minute after start) and one stocked product with ten
    /// voucher codes at location "main", so every kind of order can be tried at once.
    /// </summary>
    private async Task SeedCatalog(EventMetadata metadata, CancellationToken ct)
    {
        try
        {
            foreach (var report in await catalogSync.RunAll(ct))
                logger.LogInformation("Demo catalog from {Vendor}: {Read} products read, {Listed} listed", report.Vendor, report.Read,
                    report.Listed);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Demo catalog sync failed ({Message}); the scheduled sync will try again", e.Message);
        }
        await products.Execute(Product.StreamName(VoucherSku),
            new ListProduct(VoucherSku, new ProductDetails(ProductDetails.Stocked, null, "Demo cinema voucher 10 EUR", "Demo Cinema",
            "DE", "EUR", ProductTypes.Voucher, 10_00, null, null), new ProductCost(7_50, null), clock.UtcNow), metadata, ct: ct);
        var (level, _) = await stock.Load(Stock.StreamName(VoucherSku, "main"), ct);
        if (level.Movements.Count == 0)
        {
            // Fresh random codes: sandbox codes are still treated as secrets (sealed, never logged).
            var codes = Enumerable.Range(1, 10)
                .Select(_ => $"DEMO-{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))}").ToList();
            await stock.Execute(Stock.StreamName(VoucherSku, "main"), new ReceiveStock("demo-seed", codes.Count, 7_50, "EUR",
                vouchers.Seal(VoucherSku, "main", "demo-seed", codes)), metadata, ct: ct);
        }
    }

    public const string VoucherSku = "demo-cinema-10";
}
