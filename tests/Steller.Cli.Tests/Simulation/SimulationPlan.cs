using System.Globalization;

namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// Which seeds to run: <c>STELLER_SIM_SEED=N</c> replays exactly scenario N; otherwise <c>STELLER_SIM_SCENARIOS</c> scenarios
/// (default 50) with consecutive seeds from <c>STELLER_SIM_FIRST_SEED</c> (default: a fresh random one, printed, so every
/// CI run explores new scenarios and any failure can be replayed).
/// </summary>
/// <para>
/// <c>STELLER_SIM_QUARANTINE</c> names fault kinds the run generates but does not inflict, because they hit a known, reported
/// bug that another change fixes (default <see cref="DefaultQuarantine"/>; <c>none</c> inflicts everything). The scenario's
/// contents stay the same (the seed draws them all); only their execution is skipped, and each run says so.
/// </para>
public sealed record SimulationPlan(IReadOnlyList<int> Seeds, string Origin, IReadOnlySet<string> Quarantined)
{
    public const string Seed = "STELLER_SIM_SEED", Scenarios = "STELLER_SIM_SCENARIOS", FirstSeed = "STELLER_SIM_FIRST_SEED",
        Quarantine = "STELLER_SIM_QUARANTINE";
    public const int DefaultScenarios = 50;

    /// <summary>
    /// Nothing is quarantined. drop-connections was, while LeaderSessionTerminatedTests (seed 103's regression test) could
    /// leave a fault row behind: a zombie leader's batch made the new leader record a fault for a moved checkpoint.
    /// </summary>
    public const string DefaultQuarantine = "none";

    /// <summary>The quarantined fault kinds (<see cref="Quarantine"/>: comma-separated, or "none").</summary>
    public static IReadOnlySet<string> QuarantinedKinds()
    {
        var text = Environment.GetEnvironmentVariable(Quarantine) ?? DefaultQuarantine;
        return text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(k => k != "none").ToHashSet(StringComparer.Ordinal);
    }

    public static SimulationPlan FromEnvironment()
    {
        if (Number(Seed) is { } seed) return new([seed], $"{Seed}={seed}", QuarantinedKinds());
        var count = Number(Scenarios) is { } n and > 0 ? n : DefaultScenarios;
        var first = Number(FirstSeed) ?? Random.Shared.Next(1, int.MaxValue / 2);
        return new(Enumerable.Range(0, count).Select(i => first + i).ToList(), $"{count} scenario(s) from seed {first}", QuarantinedKinds());
    }

    private static int? Number(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
              : throw new ArgumentException($"{variable} must be a non-negative whole number, not '{text}'")
            : null;
}
