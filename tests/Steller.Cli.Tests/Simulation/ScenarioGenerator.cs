namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// Builds a <see cref="Scenario"/> from a seed: one <see cref="Random"/>(seed) makes every choice, in a fixed order, so a seed
/// always gives the same partners, orders, vendor faults, steps and faults. Kept small (a few seconds of work) so that
/// dozens run in one CI job.
/// </summary>
public static class ScenarioGenerator
{
    /// <summary>The gift-card vendor's products in the simulator's catalog: a fixed 25 EUR card and a 5–500 EUR range.</summary>
    public const string FixedCard = "giftcard-101", RangeCard = "giftcard-103";

    public const int Nodes = 2;
    /// <summary>Steps and faults start within this many milliseconds.</summary>
    public const int Window = 3_000;

    public static Scenario Generate(int seed)
    {
        var rng = new Random(seed);
        var prefix = $"sim{seed}";

        var partners = Enumerable.Range(1, rng.Next(1, 4)).Select(n => new SimPartner($"{prefix}-p{n}",
            Deposit: Pick(rng, 0L, 30_00, 100_00, 300_00, 2_000_00),
            CreditLimit: rng.Next(4) == 0 ? 50_00 : 0)).ToList();
        var stock = rng.Next(5) < 3 ? new SimStock($"{prefix}-voucher", FaceValue: 10_00, UnitCost: 8_00, InitialUnits: rng.Next(0, 6)) : null;

        var steps = new List<Step>();
        var orderCount = rng.Next(3, 9);
        for (var i = 0; i < orderCount; i++)
        {
            var lines = Enumerable.Range(0, rng.Next(1, 3)).Select(_ => Line(rng, stock)).ToList();
            steps.Add(new PlaceOrder(rng.Next(Window), One(rng, partners).Id, $"o{i}", lines, Copies: rng.Next(10) < 7 ? 1 : rng.Next(2, 4)));
        }
        for (var i = rng.Next(0, 3); i > 0; i--)
            steps.Add(new PlaceHold(rng.Next(Window), One(rng, partners).Id, $"{prefix}-hold{i}", Pick(rng, 5_00L, 20_00, 80_00),
                ExpiresInMinutes: rng.Next(2, 13)));
        if (stock is not null)
        {
            if (rng.Next(3) == 0) steps.Add(new Reserve(rng.Next(Window), $"{prefix}-res", rng.Next(1, 3), ExpiresInMinutes: rng.Next(2, 13)));
            if (rng.Next(2) == 0) steps.Add(new ReceiveStock(rng.Next(Window), "r2", rng.Next(1, 4), Twice: rng.Next(2) == 0));
            if (rng.Next(3) == 0) steps.Add(new MoveStock(rng.Next(Window), $"{prefix}-move", rng.Next(1, 3)));
        }
        if (partners.Count > 1 && rng.Next(2) == 0)
        {
            var from = One(rng, partners);
            var to = One(rng, partners.Where(p => p != from).ToList());
            steps.Add(new MoveMoney(rng.Next(Window), from.Id, to.Id, $"{prefix}-xfer", Pick(rng, 10_00L, 50_00, 500_00), Twice: rng.Next(2) == 0));
        }
        steps.Sort((a, b) => a.AtMs.CompareTo(b.AtMs));

        var orders = steps.OfType<PlaceOrder>().OrderBy(o => o.ClientReference, StringComparer.Ordinal).ToList();
        var vendorFaults = VendorFaultGenerator.For(rng, orders);

        var faults = new List<Fault>();
        if (rng.Next(4) == 0) faults.Add(new KillNode(rng.Next(Window), rng.Next(Nodes), RestartAfterMs: rng.Next(200, 2_000)));
        if (rng.Next(10) < 3) faults.Add(new DropConnections(rng.Next(Window), rng.Next(Nodes)));
        // Past every hold (at most 12 minutes) and reservation (12, or the 15 minutes orders' reservations get), and the
        // pending-order timeout (5 minutes).
        if (rng.Next(10) < 4) faults.Add(new ClockJump(rng.Next(Window), rng.Next(16, 21)));
        faults.Sort((a, b) => a.AtMs.CompareTo(b.AtMs));

        var followUps = new List<FollowUp>();
        foreach (var order in orders)
        {
            switch (rng.Next(10))
            {
                case < 3: followUps.Add(new Refund(order.ClientReference, $"{order.ClientReference}-refund", rng.Next(300, 1_001), rng.Next(1, 3))); break;
                case < 5: followUps.Add(new RetryIfFailed(order.ClientReference, rng.Next(1, 3))); break;
            }
        }
        // Drawn last, so every choice above is what it was before webhooks joined (old seeds replay the same orders and faults).
        var webhooks = new List<SimWebhook>();
        foreach (var partner in partners)
            if (rng.Next(3) < 2)
                webhooks.Add(new SimWebhook(partner.Id, AllTypes: rng.Next(2) == 0, FailPercent: Pick(rng, 0, 20, 40, 60), SlowPercent: Pick(rng, 0, 10, 30)));
        return new Scenario(seed, prefix, partners, stock, vendorFaults, steps, faults, followUps, webhooks);
    }

    private static SimLine Line(Random rng, SimStock? stock) => rng.Next(stock is null ? 2 : 3) switch
    {
        0 => new SimLine(FixedCard, rng.Next(1, 3), 25_00, Stocked: false),
        1 => new SimLine(RangeCard, 1, rng.Next(5, 51) * 100L, Stocked: false),
        _ => new SimLine(stock!.Sku, rng.Next(1, 3), stock.FaceValue, Stocked: true),
    };

    private static T Pick<T>(Random rng, params T[] items) => items[rng.Next(items.Length)];
    private static T One<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];
}
