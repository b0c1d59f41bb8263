namespace Steller.Projections.Engine;

/// <summary>Names of the schemas read models live in: read_vN per generation, stable views in "read".</summary>
public static class ProjectionSchemas
{
    public const string Views = "read";
    public static string ForGeneration(int generation) => $"read_v{generation}";
}
