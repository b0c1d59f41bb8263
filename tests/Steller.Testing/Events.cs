using System.Text;
using Steller.Application.EventStore;

namespace Steller.Testing;

/// <summary>Builders for raw events in store-level tests.</summary>
public static class Events
{
    public static EventMetadata Metadata(string actor = "test") =>
        new($"corr-{Guid.NewGuid():N}", $"cause-{Guid.NewGuid():N}", Guid.NewGuid(), actor,
            // Microsecond precision: what every store keeps.
            new DateTimeOffset(DateTime.UtcNow.Ticks / 10 * 10, TimeSpan.Zero));

    public static EventData Make(string type = "test.happened.v1", string? json = null, Guid? id = null) =>
        new(id ?? Guid.NewGuid(), type, Encoding.UTF8.GetBytes(json ?? $$"""{"n":{{Random.Shared.Next(1_000_000)}}}"""), Metadata());

    public static EventData[] Many(int count, string type = "test.happened.v1") =>
        Enumerable.Range(0, count).Select(i => Make(type, $$"""{"i":{{i}}}""")).ToArray();

    public static string Stream(string prefix = "test") => $"{prefix}-{Guid.NewGuid():N}";

    public static string Json(RecordedEvent e) => Encoding.UTF8.GetString(e.Data.Span);
}

public static class Eventually
{
    /// <summary>
    /// Polls until <paramref name="condition"/> holds or the timeout passes (then fails with <paramref name="what"/>).
    /// A read model whose table does not exist yet (its projection is still registering) counts as "not yet", whether
    /// it surfaces as PostgreSQL's undefined table or as the API's 503 read_model_unavailable (through any client).
    /// </summary>
    public static async Task True(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UndefinedTable && DateTime.UtcNow <= deadline) { }
            catch (Exception e) when (e.Message.Contains("read_model_unavailable", StringComparison.Ordinal) && DateTime.UtcNow <= deadline) { }
            if (DateTime.UtcNow > deadline) NUnit.Framework.Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting until {what}.");
            await Task.Delay(50);
        }
    }
}
