using System.Text.Json;
using System.Text.RegularExpressions;

namespace Steller.VendorSimulator;

/// <summary>
/// The DingConnect-like top-up vendor, in memory. PascalCase JSON, money in major units. A transfer is keyed by the
/// distributor's DistributorRef: sending it again creates nothing and answers the existing transfer record
/// (with error code "DuplicateDistributorRef" beside it; a different body under the same ref is a 409).
/// </summary>
public sealed partial class TopUpVendor(SimulatorOptions options, ScriptBook scripts, FakeCodes codes, TimeProvider time,
    ILogger<TopUpVendor> log)
{
    public const string Name = "topup";

    public sealed record Provider(string ProviderCode, string CountryIso, string Name, string ValidationRegex);
    /// <summary>
    /// SendValue is what the distributor's customer pays (the face value Steller sells); CommissionRate (percent) is
    /// the distributor's discount.
    /// </summary>
    public sealed record Product(string SkuCode, string ProviderCode, string DisplayText, decimal MinSend, decimal MaxSend,
        string SendCurrencyIso, decimal ReceivePerSend, string ReceiveCurrencyIso, decimal CommissionRate);

    public static readonly IReadOnlyList<Provider> Providers =
    [
        new("ORFR", "FR", "Orange France", @"^\+?33[67]\d{8}$"),
        new("VFDE", "DE", "Vodafone Germany", @"^\+?491\d{9,10}$"),
        new("TMUS", "US", "T-Mobile USA", @"^\+?1\d{10}$"),
        new("EEGB", "GB", "EE United Kingdom", @"^\+?447\d{9}$"),
        new("AIIN", "IN", "Airtel India", @"^\+?91\d{10}$"),
    ];

    public static readonly IReadOnlyList<Product> Products =
    [
        new("ORFR-10EUR", "ORFR", "Orange 10 EUR", 10m, 10m, "EUR", 1m, "EUR", 4.5m),
        new("ORFR-OPEN-EUR", "ORFR", "Orange 5-50 EUR", 5m, 50m, "EUR", 1m, "EUR", 3.25m),
        new("VFDE-15EUR", "VFDE", "Vodafone 15 EUR", 15m, 15m, "EUR", 1m, "EUR", 5m),
        new("TMUS-OPEN-USD", "TMUS", "T-Mobile 10-100 USD", 10m, 100m, "USD", 1m, "USD", 2.5m),
        new("EEGB-10GBP", "EEGB", "EE 10 GBP", 10m, 10m, "GBP", 1m, "GBP", 0m),
        new("AIIN-OPEN-EUR", "AIIN", "Airtel 5-50 EUR (INR)", 5m, 50m, "EUR", 89.5m, "INR", 6.125m),
    ];

    public sealed class Transfer
    {
        public required string DistributorRef { get; init; }
        public required string TransferRef { get; init; }
        public required Product Product { get; init; }
        public required decimal SendValue { get; init; }
        public required string AccountNumber { get; init; }
        public required DateTimeOffset CreatedAt { get; init; }
        public string State { get; set; } = "Processing";
        public string FinalState { get; set; } = "Complete";
        public string? ErrorCode { get; set; }
        public int PollsLeft { get; set; }
        public DateTimeOffset DoneAt { get; set; }
        /// <summary>What the vendor gave back when it reversed the transfer (control call); null while not reversed.</summary>
        public decimal? Reversed { get; set; }
    }

    private readonly Dictionary<string, Transfer> transfers = new();
    /// <summary>The prepaid balance per send currency (major units); a currency not yet touched has the opening balance.</summary>
    private readonly Dictionary<string, decimal> balances = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public IReadOnlyList<Transfer> Transfers() { lock (gate) return transfers.Values.OrderBy(t => t.CreatedAt).ToList(); }
    public void Reset() { lock (gate) { transfers.Clear(); balances.Clear(); } }

    private decimal Balance(string currency) => balances.TryGetValue(currency, out var b) ? b : options.TopUp.OpeningBalance;

    /// <summary>The balance in every currency touched so far (and the balance currency).</summary>
    public IReadOnlyDictionary<string, decimal> Balances()
    {
        lock (gate)
            return balances.Keys.Append(options.TopUp.BalanceCurrency).Distinct().ToDictionary(c => c, Balance, StringComparer.Ordinal);
    }

    /// <summary>Control: money paid into (or, negative, taken from) the account in <paramref name="currency"/>; the new balance.</summary>
    public decimal TopUp(string currency, decimal amount)
    {
        lock (gate) return balances[currency] = Balance(currency) + amount;
    }

    /// <summary>
    /// Control: the vendor reverses (refunds) the completed transfer <paramref name="distributorRef"/>: what it charged goes back
    /// to the balance of its send currency, once. A second reversal gives nothing back and answers the first.
    /// </summary>
    public ControlEndpoints.ReversalOutcome Reverse(string distributorRef)
    {
        lock (gate)
        {
            if (!transfers.TryGetValue(distributorRef, out var t)) return ControlEndpoints.ReversalOutcome.NotFound;
            var currency = t.Product.SendCurrencyIso;
            if (t.Reversed is { } done) return new(ControlEndpoints.ReversalResult.AlreadyReversed, currency, done, Balance(currency));
            Advance(t);
            if (t.State != "Complete") return ControlEndpoints.ReversalOutcome.NotReversible(t.State);
            var charged = t.SendValue * (1 - t.Product.CommissionRate / 100m); // what SendTransfer drew
            t.Reversed = charged;
            var balance = balances[currency] = Balance(currency) + charged;
            log.LogInformation("topup transfer {DistributorRef} reversed: {Amount} {Currency} back to the balance", t.DistributorRef, charged,
                currency);
            return new(ControlEndpoints.ReversalResult.Reversed, currency, charged, balance);
        }
    }

    public void Map(IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/topup/api/V1");

        g.MapGet("/GetProviders", (string? countryIsos) =>
        {
            var countries = Split(countryIsos);
            return Ok(new
            {
                ResultCode = 1, ErrorCodes = Array.Empty<object>(),
                Items = Providers.Where(p => countries.Length == 0 || countries.Contains(p.CountryIso))
                    .Select(p => new { p.ProviderCode, p.CountryIso, p.Name, p.ValidationRegex }),
            });
        });

        g.MapGet("/GetProducts", (string? countryIsos, string? providerCodes) =>
        {
            var countries = Split(countryIsos);
            var providers = Split(providerCodes);
            return Ok(new
            {
                ResultCode = 1, ErrorCodes = Array.Empty<object>(),
                Items = Products
                    .Where(p => providers.Length == 0 || providers.Contains(p.ProviderCode))
                    .Where(p => countries.Length == 0
                        || countries.Contains(Providers.First(x => x.ProviderCode == p.ProviderCode).CountryIso))
                    .Select(p => new
                    {
                        p.SkuCode, p.ProviderCode, DefaultDisplayText = p.DisplayText, p.CommissionRate,
                        Minimum = new { SendValue = p.MinSend, SendCurrencyIso = p.SendCurrencyIso, ReceiveValue = p.MinSend
                            * p.ReceivePerSend, ReceiveCurrencyIso = p.ReceiveCurrencyIso },
                        Maximum = new { SendValue = p.MaxSend, SendCurrencyIso = p.SendCurrencyIso, ReceiveValue = p.MaxSend
                            * p.ReceivePerSend, ReceiveCurrencyIso = p.ReceiveCurrencyIso },
                    }),
            });
        });

        // The account's balance in one currency: currencyIso (default: the account's balance currency).
        g.MapGet("/GetBalance", (string? currencyIso) =>
        {
            var currency = string.IsNullOrEmpty(currencyIso) ? options.TopUp.BalanceCurrency : currencyIso;
            if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))
                return Error(400, "InvalidCurrencyIso", "currencyIso must be an ISO 4217 code such as EUR");
            lock (gate) return Ok(new { Balance = Balance(currency), CurrencyIso = currency, ResultCode = 1, ErrorCodes = Array.Empty<object>() });
        });

        g.MapPost("/SendTransfer", (JsonElement body) => Send(body));

        g.MapPost("/ListTransferRecords", (JsonElement body) =>
        {
            var req = body.Deserialize<ListRequest>(SimulatorApp.Json);
            lock (gate)
            {
                var found = transfers.Values
                    .Where(t => req?.DistributorRef is null || t.DistributorRef == req.DistributorRef)
                    .Where(t => req?.TransferRef is null || t.TransferRef == req.TransferRef)
                    .OrderBy(t => t.CreatedAt).Skip(req?.Skip ?? 0).Take(Math.Clamp(req?.Take ?? 100, 1, 1000)).ToList();
                foreach (var t in found) Advance(t);
                return Ok(new { ResultCode = 1, ErrorCodes = Array.Empty<object>(),
                    Items = found.Select(t => new { TransferRecord = Record(t), ResultCode = 1, ErrorCodes = Array.Empty<object>() }) });
            }
        });
    }

    private IResult Send(JsonElement body)
    {
        SendRequest? req;
        try { req = body.Deserialize<SendRequest>(SimulatorApp.Json); }
        catch (JsonException e) { return Error(400, "InvalidRequest", e.Message); }
        if (req is null || string.IsNullOrWhiteSpace(req.DistributorRef) || req.DistributorRef.Length > 50)
            return Error(400, "InvalidDistributorRef", "DistributorRef is required (at most 50 characters)");

        lock (gate)
        {
            if (transfers.TryGetValue(req.DistributorRef, out var existing))
            {
                if (existing.Product.SkuCode != req.SkuCode || existing.SendValue != req.SendValue || existing.AccountNumber
                    != req.AccountNumber)
                    return Error(409, "DistributorRefConflict", "DistributorRef was used for a different transfer");
                Advance(existing);
                return Ok(new { TransferRecord = Record(existing), ResultCode = 1,
                    ErrorCodes = new[] { new { Code = "DuplicateDistributorRef", Context = req.DistributorRef } } });
            }
            var product = Products.FirstOrDefault(p => p.SkuCode == req.SkuCode);
            if (product is null) return Error(400, "InvalidSkuCode", $"unknown SkuCode {req.SkuCode}");
            if (req.SendValue < product.MinSend || req.SendValue > product.MaxSend)
                return Error(400, "InvalidSendValue", $"SendValue must be within {product.MinSend}..{product.MaxSend}");
            var provider = Providers.First(p => p.ProviderCode == product.ProviderCode);
            if (req.AccountNumber is null || !E164().IsMatch(req.AccountNumber)
                || !Regex.IsMatch(req.AccountNumber, provider.ValidationRegex))
                return Error(400, "InvalidAccountNumber", $"AccountNumber is not a {provider.Name} number in E.164");
            if (scripts.Take(Name, "transfer", req.SkuCode, req.DistributorRef, ["reject"]) is { } reject)
                return Error(reject.Status is >= 400 and < 500 and not 409 and not 429 ? reject.Status : 400, "ProviderError", reject.Reason
                    ?? "the operator refused the top-up");
            var cost = req.SendValue * (1 - product.CommissionRate / 100m);
            var current = Balance(product.SendCurrencyIso);
            if (current < cost) return Error(400, "InsufficientBalance", "the account balance is too low");
            if (req.ValidateOnly)
                return Ok(new { TransferRecord = (object?)null, ResultCode = 1, ErrorCodes = Array.Empty<object>() });

            var now = time.GetUtcNow();
            var t = new Transfer
            {
                DistributorRef = req.DistributorRef, TransferRef = codes.TransferRef(), Product = product, SendValue = req.SendValue,
                AccountNumber = req.AccountNumber, CreatedAt = now,
            };
            var shape = scripts.Take(Name, "transfer", req.SkuCode, req.DistributorRef, ["fail", "slow"]);
            if (shape?.Action == "fail") { t.FinalState = "Failed"; t.ErrorCode = shape.Reason ?? "ProviderUnavailable"; }
            var slow = shape?.Action == "slow" ? shape : scripts.Take(Name, "transfer", req.SkuCode, req.DistributorRef, ["slow"]);
            if (slow is not null) { t.PollsLeft = slow.Polls; t.DoneAt = now.AddMilliseconds(slow.DelayMs); }
            balances[product.SendCurrencyIso] = current - cost;
            transfers[t.DistributorRef] = t;
            Advance(t, initial: true);
            log.LogInformation("topup transfer {DistributorRef} created ({TransferRef}), state {State}", t.DistributorRef, t.TransferRef,
                t.State);
            return Ok(new { TransferRecord = Record(t), ResultCode = 1, ErrorCodes = Array.Empty<object>() });
        }
    }

    /// <summary>Synchronous completion unless scripted slow: then Processing for N status reads and/or a delay.</summary>
    private void Advance(Transfer t, bool initial = false)
    {
        if (t.State != "Processing") return;
        var waiting = t.PollsLeft > 0 || time.GetUtcNow() < t.DoneAt;
        if (waiting)
        {
            if (!initial && t.PollsLeft > 0) t.PollsLeft--;
            return;
        }
        t.State = t.FinalState;
        if (t.State == "Failed")
            balances[t.Product.SendCurrencyIso] = Balance(t.Product.SendCurrencyIso) + t.SendValue * (1 - t.Product.CommissionRate / 100m);
        if (!initial) log.LogInformation("topup transfer {DistributorRef} {State}", t.DistributorRef, t.State);
    }

    private static object Record(Transfer t) => new
    {
        TransferId = new { TransferRef = t.TransferRef, DistributorRef = t.DistributorRef },
        t.Product.SkuCode,
        Price = new
        {
            SendValue = t.SendValue, SendCurrencyIso = t.Product.SendCurrencyIso,
            ReceiveValue = t.SendValue * t.Product.ReceivePerSend, ReceiveCurrencyIso = t.Product.ReceiveCurrencyIso,
        },
        CommissionApplied = Math.Round(t.SendValue * t.Product.CommissionRate / 100m, 4),
        StartedUtc = t.CreatedAt,
        CompletedUtc = t.State == "Complete" ? t.CreatedAt : (DateTimeOffset?)null,
        ProcessingState = t.State,
        ErrorCode = t.State == "Failed" ? t.ErrorCode : null,
        AccountNumber = t.AccountNumber,
    };

    private static string[] Split(string? csv)
        => (csv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IResult Ok(object value) => Results.Json(value, SimulatorApp.PascalJson);

    private static IResult Error(int status, string code, string context) =>
        Results.Json(new { ResultCode = 2, ErrorCodes = new[] { new { Code = code, Context = context } } }, SimulatorApp.PascalJson,
            statusCode: status);

    [GeneratedRegex(@"^\+?[1-9]\d{6,14}$")]
    private static partial Regex E164();

    public sealed record SendRequest(string? SkuCode, decimal SendValue, string? AccountNumber, string? DistributorRef, bool ValidateOnly);
    public sealed record ListRequest(string? DistributorRef, string? TransferRef, int? Take, int? Skip);
}
