using Steller.Application.Vendors;

namespace Steller.Vendors.Tests;

/// <summary>One simulator per fixture (reset before each test), fresh adapters (fresh rate gates) per test.</summary>
public abstract class VendorTest
{
    protected SimulatorHost Sim = null!;
    protected Adapters Steller = null!;

    protected virtual IDictionary<string, string?>? AdapterSettings => null;
    protected virtual string[] SimulatorArgs => [];

    [OneTimeSetUp]
    public async Task StartSimulator() => Sim = await SimulatorHost.Start(SimulatorArgs);

    [OneTimeTearDown]
    public async Task StopSimulator() => await Sim.DisposeAsync();

    [SetUp]
    public async Task Fresh()
    {
        await Sim.Reset();
        Steller = new Adapters(Sim, overrides: AdapterSettings);
    }

    [TearDown]
    public async Task DisposeAdapters() => await Steller.DisposeAsync();

    protected static VendorPurchase GiftCard(int productId = 101, long faceValue = 25_00, int quantity = 1, string currency = "EUR", string? requestId = null) =>
        new(VendorKinds.GiftCard, requestId ?? Guid.NewGuid().ToString(), productId.ToString(), faceValue, quantity, currency, null);

    protected static VendorPurchase TopUp(string sku = "ORFR-10EUR", long faceValue = 10_00, int quantity = 1, string currency = "EUR", string phone = "+33612345678") =>
        new(VendorKinds.TopUp, Guid.NewGuid().ToString(), sku, faceValue, quantity, currency, phone);

    /// <summary>Polls until the purchase is final (the tests' stand-in for the fulfilment process).</summary>
    protected static async Task<VendorPurchaseResult> PollUntilFinal(IVendorOrders orders, VendorPurchase purchase, int maxPolls = 20)
    {
        for (var i = 0; i < maxPolls; i++)
        {
            var r = await orders.Poll(purchase);
            if (r.Status != VendorPurchaseStatus.Processing) return r;
            await Task.Delay(20);
        }
        throw new AssertionException($"{purchase.RequestId} still Processing after {maxPolls} polls");
    }
}
