using System.CommandLine;
using Steller.Client;

namespace Steller.Cli;

/// <summary>
/// steller demo order: places one signed order as the sandbox partner that ./run.sh seeded (credentials from
/// .steller/demo.txt or the STELLER_* variables in it), waits for fulfilment and prints the outcome.
/// </summary>
public static class DemoCommand
{
    public const int Refused = 1, UsageError = 2;

    public static Command Create()
    {
        var command = new Command("demo", "Try the sandbox that ./run.sh starts.");
        command.Subcommands.Add(Order());
        return command;
    }

    private static Command Order()
    {
        var file = new Option<string>("--credentials") { Description =
            "The file ./run.sh wrote (default .steller/demo.txt; STELLER_* environment variables win).", DefaultValueFactory = _
            => Path.Combine(".steller", "demo.txt") };
        var sku = new Option<string>("--sku") { Description = "What to buy (default: the simulator's Amazon.de 25 EUR gift card).",
            DefaultValueFactory = _ => "giftcard-101" };
        var face = new Option<long>("--face-value") { Description = "Face value in minor units (default 2500 = 25.00).",
            DefaultValueFactory = _ => 25_00 };
        var quantity = new Option<int>("--quantity") { Description = "Units (default 1).", DefaultValueFactory = _ => 1 };
        var phone = new Option<string?>("--phone") { Description = "Recipient phone (E.164) for top-ups." };
        var showCodes = new Option<bool>("--show-codes") { Description = "Print delivered codes and PINs in full (default: masked)." };
        var command = new Command("order", "Place one signed order as the demo partner and wait until it is fulfilled.") { file, sku, face,
            quantity, phone, showCodes };
        command.SetAction(async (parse, ct) =>
        {
            var settings = Credentials(parse.GetValue(file)!);
            if (!settings.TryGetValue("STELLER_BASE_URL", out var baseUrl) || !settings.TryGetValue("STELLER_PARTNER_KEY_ID", out var keyId)
                || !settings.TryGetValue("STELLER_PARTNER_SECRET", out var secret))
            {
                Console.Error.WriteLine(
                    "steller: no demo credentials: start ./run.sh first (it writes .steller/demo.txt), or set STELLER_BASE_URL, "
                    + "STELLER_PARTNER_KEY_ID and STELLER_PARTNER_SECRET.");
                return UsageError;
            }
            using var client = StellerClient.Create(new Uri(baseUrl), keyId, secret);
            var reference = $"demo-{DateTimeOffset.UtcNow:yyyyMMddHHmmssfff}";
            Placement placed;
            try { placed = await client.PlaceOrder(reference,
                [new NewOrderLine(parse.GetValue(sku)!, parse.GetValue(quantity), parse.GetValue(face))], parse.GetValue(phone), ct: ct); }
            catch (StellerApiException e)
            {
                Console.Error.WriteLine($"steller: order refused: {e.Status} {e.Code}: {e.Detail}");
                return Refused;
            }
            catch (HttpRequestException e)
            {
                Console.Error.WriteLine($"steller: cannot reach {baseUrl} ({e.Message}); is ./run.sh running?");
                return UsageError;
            }
            Console.WriteLine($"Placed {placed.OrderId} ({reference}): {placed.Status}, total {Money(placed.Total, placed.Currency)}");
            var order = await client.GetOrder(placed.OrderId, ct);
            for (var i = 0; i < 120 && order.Status is "FundsHeld" or "Submitted" or "Placed"; i++)
            {
                await Task.Delay(250, ct);
                order = await client.GetOrder(placed.OrderId, ct);
            }
            Console.WriteLine($"Status {order.Status}: captured "
                + $"{Money(order.Captured, order.Currency)}{(order.FailureReason is { } r ? $" ({r})" : "")}");
            foreach (var line in order.Lines)
            foreach (var card in line.Cards ?? [])
                Console.WriteLine($"  {line.Sku}: code "
                    + $"{Show(card.Code, parse.GetValue(showCodes))}"
                    + $"{(card.Pin is null ? "" : $", PIN {Show(card.Pin, parse.GetValue(showCodes))}")}");
            return order.Status is "Completed" or "PartiallyCompleted" ? 0 : Refused;
        });
        return command;
    }

    /// <summary>[export ]KEY=VALUE lines of the credentials file, overridden by environment variables of the same names.</summary>
    private static Dictionary<string, string> Credentials(string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (File.Exists(path))
            foreach (var line in File.ReadAllLines(path).Select(l => l.Trim()).Where(l => !l.StartsWith('#') && l.Contains('=')))
            {
                // "export KEY=VALUE" (the file is meant to be sourced) or plain "KEY=VALUE"
                var assignment = line.StartsWith("export ", StringComparison.Ordinal) ? line["export ".Length..] : line;
                values[assignment[..assignment.IndexOf('=')].Trim()] = assignment[(assignment.IndexOf('=') + 1)..].Trim();
            }
        foreach (var key in new[] { "STELLER_BASE_URL", "STELLER_PARTNER_KEY_ID", "STELLER_PARTNER_SECRET" })
            if (Environment.GetEnvironmentVariable(key) is { Length: > 0 } v) values[key] = v;
        return values;
    }

    private static string Money(long minor, string? currency) => Steller.Domain.Money.FormatWithCode(minor, currency);
    /// <summary>
    /// Masked: at most the first third shows (nothing of a short PIN), so a terminal or a screen share leaks no usable secret.
    /// </summary>
    private static string Show(string? secret, bool full) => secret is null ? "-" : full ? secret : secret[..Math.Min(4, secret.Length / 3)]
        + new string('*', secret.Length - Math.Min(4, secret.Length / 3));
}
