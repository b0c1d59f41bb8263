namespace Steller.VendorSimulator;

/// <summary>
/// Section "Simulator" (appsettings.json, env SIMULATOR__KEY, or --Simulator:Key=value on the command line).
/// In sandbox mode missing credentials fall back to the well-known sandbox ones below.
/// </summary>
public sealed class SimulatorOptions
{
    public const string SandboxClientId = "sandbox-client";
    public const string SandboxClientSecret = "sandbox-secret";
    public const string SandboxAccountId = "sandbox-account";
    public const string SandboxApiKey = "sandbox-api-key";

    public bool Sandbox { get; set; }
    public GiftCardOptions GiftCard { get; set; } = new();
    public TopUpOptions TopUp { get; set; } = new();
    /// <summary>Seed of the card-code generator (0: random). Codes are fake either way.</summary>
    public int RandomSeed { get; set; }

    /// <summary>The rate limits as configured at start (/control/reset restores them after /control/rate-limit).</summary>
    public (RateLimitOptions GiftCard, RateLimitOptions TopUp) Initial { get; private set; }

    public void Validate()
    {
        if (Sandbox)
        {
            GiftCard.ClientId ??= SandboxClientId;
            GiftCard.ClientSecret ??= SandboxClientSecret;
            GiftCard.AccountId ??= SandboxAccountId;
            TopUp.ApiKey ??= SandboxApiKey;
        }
        if (string.IsNullOrWhiteSpace(GiftCard.ClientId) || string.IsNullOrWhiteSpace(GiftCard.ClientSecret))
            throw new InvalidOperationException(
                "Simulator:GiftCard:ClientId and Simulator:GiftCard:ClientSecret are required (or Simulator:Sandbox=true).");
        if (string.IsNullOrWhiteSpace(GiftCard.AccountId))
            throw new InvalidOperationException("Simulator:GiftCard:AccountId is required (or Simulator:Sandbox=true).");
        if (string.IsNullOrWhiteSpace(TopUp.ApiKey))
            throw new InvalidOperationException("Simulator:TopUp:ApiKey is required (or Simulator:Sandbox=true).");
        GiftCard.RateLimit.Validate("Simulator:GiftCard:RateLimit");
        TopUp.RateLimit.Validate("Simulator:TopUp:RateLimit");
        Initial = (GiftCard.RateLimit.Copy(), TopUp.RateLimit.Copy());
    }

    public void RestoreRateLimits()
    {
        GiftCard.RateLimit = Initial.GiftCard.Copy();
        TopUp.RateLimit = Initial.TopUp.Copy();
    }
}

public sealed class GiftCardOptions
{
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public string? AccountId { get; set; }
    /// <summary>Opening balance per account currency (major units).</summary>
    public decimal OpeningBalance { get; set; } = 1_000_000m;
    /// <summary>Digits of a card PIN; 0: 4 to 8, like real brands.</summary>
    public int PinLength { get; set; }
    /// <summary>The real API allows about one request per second per client.</summary>
    public RateLimitOptions RateLimit { get; set; } = new() { PerSecond = 1, Burst = 2 };
}

public sealed class TopUpOptions
{
    public string? ApiKey { get; set; }
    public decimal OpeningBalance { get; set; } = 1_000_000m;
    public string BalanceCurrency { get; set; } = "EUR";
    public RateLimitOptions RateLimit { get; set; } = new() { PerSecond = 10, Burst = 10 };
}

/// <summary>
/// Token bucket per client: <see cref="Burst"/> tokens, refilled continuously at <see cref="PerSecond"/>. 0 turns it off.
/// </summary>
public sealed class RateLimitOptions
{
    public double PerSecond { get; set; }
    public int Burst { get; set; } = 1;

    public RateLimitOptions Copy() => new() { PerSecond = PerSecond, Burst = Burst };

    public void Validate(string path)
    {
        if (PerSecond < 0) throw new InvalidOperationException($"{path}:PerSecond must be 0 (off) or positive.");
        if (Burst < 1) throw new InvalidOperationException($"{path}:Burst must be at least 1.");
    }
}
