using System.Globalization;

namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// Which seeds to run: <c>STELLER_SIM_SEED=N</c> replays exactly scenario N; otherwise <c>STELLER_SIM_SCENARIOS</c> scenarios
/// (default 50) with consecutive seeds from <c>STELLER_SIM_FIRST_SEED</c> (default: a fresh random one, printed, so every
/// CI run explores new scenarios and any failure can be replayed).
/// </summary>
public sealed record SimulationPlan(IReadOnlyList<int> Seeds, string Origin)
{
    public const string Seed = "STELLER_SIM_SEED", Scenarios = "STELLER_SIM_SCENARIOS", FirstSeed = "STELLER_SIM_FIRST_SEED";
    public const int DefaultScenarios = 50;

    public static SimulationPlan FromEnvironment()
    {
        if (Number(Seed) is { } seed) return new([seed], $"{Seed}={seed}");
        var count = Number(Scenarios) is { } n and > 0 ? n : DefaultScenarios;
        var first = Number(FirstSeed) ?? Random.Shared.Next(1, int.MaxValue / 2);
        return new(Enumerable.Range(0, count).Select(i => first + i).ToList(), $"{count} scenario(s) from seed {first}");
    }

    private static int? Number(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
              : throw new ArgumentException($"{variable} must be a non-negative whole number, not '{text}'")
            : null;
}
