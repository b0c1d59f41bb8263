using Steller.Application.EventStore;
using Steller.Application.Time;

namespace Steller.Api.Http;

public static class RequestMetadata
{
    /// <summary>Event metadata for an admin command arriving over HTTP: the request's correlation id, the actor, the clock's time.</summary>
    public static EventMetadata For(HttpContext context, IClock clock)
    {
        var correlation = Correlation.Of(context);
        return new EventMetadata(correlation, correlation, Guid.NewGuid(), AdminActor(context), clock.UtcNow);
    }

    /// <summary>"admin:&lt;token name&gt;" for an authenticated admin token: the actor written on every event an admin causes.</summary>
    public static string AdminActor(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? $"admin:{name}" : "admin";
}

/// <summary>Collects every field error of a request, so one 400 names all of them.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> errors = new(StringComparer.Ordinal);

    public FieldErrors Check(bool ok, string field, string message)
    {
        if (!ok) (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);
        return this;
    }

    public bool Any => errors.Count > 0;

    public IResult Problem() => Problems.Result(400, "validation_failed",
        $"{errors.Count} field(s) are invalid: {string.Join(", ", errors.Keys)}.",
        new Dictionary<string, object?> { ["errors"] = errors.ToDictionary(e => e.Key, e => (object)e.Value.ToArray()) });
}
