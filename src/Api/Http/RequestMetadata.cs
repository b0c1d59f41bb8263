using Steller.Application.EventStore;
using Steller.Application.Time;

namespace Steller.Api.Http;

public static class RequestMetadata
{
    /// <summary>
    /// Event metadata for an admin command arriving over HTTP: the request's correlation id, the actor, the clock's time.
    /// </summary>
    public static EventMetadata For(HttpContext context, IClock clock)
    {
        var correlation = Correlation.Of(context);
        return new EventMetadata(correlation, correlation, Guid.NewGuid(), AdminActor(context), clock.UtcNow);
    }

    /// <summary>"admin:&lt;token name&gt;" for an authenticated admin token: the actor written on every event an admin causes.</summary>
    public static string AdminActor(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? $"admin:{name}" : "admin";
}
