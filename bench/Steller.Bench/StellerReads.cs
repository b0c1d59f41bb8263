using Npgsql;
using Steller.Application.EventStore;

namespace Steller.Bench;

/// <summary>The reads Steller's two stores under test (PostgreSQL and EventStoreDB) do alike, through Steller's own API.</summary>
public static class StellerReads
{
    /// <summary>Reads the global log from the start in pages until <paramref name="maxEvents"/> or the end; returns the number read.</summary>
    public static async Task<long> ReadAll(IEventStore store, int pageSize, long maxEvents)
    {
        long read = 0;
        var position = LogPosition.Start;
        while (true)
        {
            var page = await store.ReadAll(position, (int)Math.Min(pageSize, maxEvents - read));
            read += page.Count;
            if (page.Count < pageSize || read >= maxEvents) return read;
            position = page[^1].Position;
        }
    }

    /// <summary>Rows (streams) of read.stream_stats and the sum of their event counts.</summary>
    public static async Task<(long Streams, long Events)> ReadModelTotals(NpgsqlDataSource readModels)
    {
        await using var cmd = readModels.CreateCommand("select count(*), coalesce(sum(events), 0)::bigint from read.stream_stats");
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
