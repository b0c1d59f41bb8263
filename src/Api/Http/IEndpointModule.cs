namespace Steller.Api.Http;

/// <summary>A use case's routes. Each feature slice registers one; Program maps them all behind the same pipeline.</summary>
public interface IEndpointModule
{
    void Map(IEndpointRouteBuilder app);
}
