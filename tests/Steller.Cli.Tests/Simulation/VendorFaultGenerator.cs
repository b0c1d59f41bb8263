namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// The vendor's misbehaviour in a scenario: for each vendor line of each order, maybe one simulator script aimed at that
/// line's request id. Transport faults (429, 5xx, a hang past Steller's 2 s attempt timeout, a lost answer after the vendor
/// did the work, a slow answer) are retried by Steller; order faults (partial delivery, slow completion, failure, rejection)
/// decide how the line ends.
/// </summary>
public static class VendorFaultGenerator
{
    public static IReadOnlyList<VendorFault> For(Random rng, IEnumerable<PlaceOrder> orders)
    {
        var faults = new List<VendorFault>();
        foreach (var order in orders)
            for (var lineNo = 1; lineNo <= order.Lines.Count; lineNo++)
            {
                var line = order.Lines[lineNo - 1];
                if (line.Stocked || rng.Next(2) == 0) continue;
                faults.Add(rng.Next(10) switch
                {
                    0 => new VendorFault(order.ClientReference, lineNo, "status", Times: rng.Next(1, 3), Status: 429),
                    1 => new VendorFault(order.ClientReference, lineNo, "status", Times: rng.Next(1, 4), Status: rng.Next(2) == 0 ? 503 : 500),
                    2 => new VendorFault(order.ClientReference, lineNo, "hang", Times: 1, DelayMs: 3_000),
                    3 => new VendorFault(order.ClientReference, lineNo, "hang-after", Times: 1, DelayMs: 3_000),
                    4 => new VendorFault(order.ClientReference, lineNo, "latency", Times: 1, DelayMs: rng.Next(300, 1_500)),
                    5 when line.Quantity > 1 => new VendorFault(order.ClientReference, lineNo, "partial", Times: 1, Delivered: rng.Next(0, line.Quantity)),
                    5 or 6 => new VendorFault(order.ClientReference, lineNo, "slow", Times: 1, Polls: rng.Next(1, 4)),
                    7 => new VendorFault(order.ClientReference, lineNo, "fail", Times: 1),
                    8 => new VendorFault(order.ClientReference, lineNo, "reject", Times: 1),
                    _ => new VendorFault(order.ClientReference, lineNo, "status", Times: 1, Status: 502),
                });
            }
        return faults;
    }
}
