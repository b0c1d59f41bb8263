using Steller.Application.Vendors;

namespace Steller.Vendors.Tests;

public sealed class SecretLoggingTests : VendorTest
{
    // 12-digit PINs: a 4-digit one could turn up inside any GUID or timestamp and fail the test for nothing.
    protected override string[] SimulatorArgs => ["--Simulator:GiftCard:PinLength=12"];

    [Test]
    public async Task no_card_code_or_pin_appears_in_the_logs_of_the_adapter_or_the_simulator()
    {
        // Retries and a duplicate too, so the warning paths log as well.
        await Sim.Script(new { vendor = VendorKinds.GiftCard, operation = "order", action = "status", status = 503 });
        var purchase = GiftCard(quantity: 4);
        await Steller.GiftCard.Submit(purchase);
        var cards = (await PollUntilFinal(Steller.GiftCard, purchase)).Cards;
        var again = await Steller.GiftCard.Submit(purchase);

        cards.Should().HaveCount(4).And.OnlyContain(c => c.Pin!.Length == 12);
        again.Cards.Should().HaveCount(4);
        var secrets = cards.Concat(again.Cards).SelectMany(c => new[] { c.Code, c.Pin! }).Distinct().ToList();
        var lines = Steller.Logs.Lines.Concat(Sim.Logs.Lines).ToList();
        // The capture works: both sides logged about this very order.
        Steller.Logs.Lines.Should().Contain(l => l.Contains(purchase.RequestId));
        Sim.Logs.Lines.Should().Contain(l => l.Contains(purchase.RequestId));
        foreach (var secret in secrets)
            lines.Should().NotContain(l => l.Contains(secret), "card secret {0} must never be logged", secret[..2] + "…");
    }

    [Test]
    public async Task the_vendor_credentials_are_never_logged()
    {
        await Steller.GiftCard.ReadCatalog().ToListAsync();
        await Steller.TopUp.Submit(TopUp());

        var lines = Steller.Logs.Lines.Concat(Sim.Logs.Lines).ToList();
        lines.Should().NotBeEmpty();
        lines.Should().NotContain(l => l.Contains(SimulatorHost.ClientSecret) || l.Contains(SimulatorHost.ApiKey));
    }
}
