using Steller.Application.Serialization;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;
using Steller.Testing;

namespace Steller.Projections.Tests.Wallets;

/// <summary>
/// A small ledger with every kind of posting. Expected (minor units, EUR unless said):
/// p1 posted 55_00, pending 10_00, credit limit 50_00; p2 posted 15_00; p3 USD posted 7_00;
/// funding EUR −95_00, vendor acme 20_00, revenue 5_00, transit 0; funding USD −7_00.
/// p1's running balance: +100_00 → 100_00, capture −20_00 → 80_00, −5_00 → 75_00, withdraw −5_00 → 70_00, transfer −15_00 → 55_00.
/// </summary>
public static class LedgerScenario
{
    public const string P1 = "p1", P2 = "p2", P3 = "p3";

    public static async Task Write(WalletWriter w)
    {
        await w.Open(P1, "EUR");
        await w.Deposit(P1, "EUR", 100_00, reference: "wire 1");
        await w.Hold(P1, "EUR", "h1", 30_00, orderId: "o-1");
        await w.Capture(P1, "EUR", "h1", 25_00, new CaptureLeg(Accounts.VendorPayable("acme", "EUR"), 20_00), new CaptureLeg(Accounts.Revenue("EUR"), 5_00));
        await w.Hold(P1, "EUR", "h2", 10_00, orderId: "o-2");
        await w.Hold(P1, "EUR", "h3", 4_00);
        await w.Release(P1, "EUR", "h3");
        await w.CreditLimit(P1, "EUR", 50_00);
        await w.Withdraw(P1, "EUR", 5_00);
        await w.Open(P2, "EUR");
        await w.Transfer(P1, P2, "EUR", 15_00);
        await w.Open(P3, "USD");
        await w.Deposit(P3, "USD", 7_00);
        await w.Freeze(P3, "USD");
    }

    public static string Wallet(string p, string c = "EUR") => Accounts.Wallet(p, c);

    public static LedgerReplay Replay(ProjectionHarness h) => new(h.Store, EventTypeRegistry.ForDomain());

    public static LedgerAudit Audit(ProjectionHarness h) => new(Replay(h), h.Db.DataSource);
}
