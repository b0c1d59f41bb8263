using Npgsql;
using NpgsqlTypes;
using Steller.Application.Commands;

namespace Steller.Infrastructure.Postgres;

/// <summary>Snapshots in steller.snapshots (migration 0018): one row per stream, the newest (or the last one of another tag).</summary>
public sealed class PostgresSnapshotStore(NpgsqlDataSource dataSource) : ISnapshotStore
{
    public async Task<Snapshot?> Read(string streamId, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("select revision, event_id, tag, state from steller.snapshots where stream_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = streamId, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new Snapshot(streamId, reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), (byte[])reader.GetValue(3));
    }

    /// <summary>One statement: an older snapshot of the same tag never replaces a newer one unless asked to.</summary>
    public async Task Write(Snapshot snapshot, bool replace = false, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            insert into steller.snapshots as s (stream_id, revision, event_id, tag, state) values ($1, $2, $3, $4, $5)
            on conflict (stream_id) do update
               set revision = excluded.revision, event_id = excluded.event_id, tag = excluded.tag, state = excluded.state, written_at = now()
             where $6 or s.revision < excluded.revision or s.tag <> excluded.tag
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = snapshot.StreamId, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = snapshot.Revision, NpgsqlDbType = NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = snapshot.EventId, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = snapshot.Tag, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = snapshot.State, NpgsqlDbType = NpgsqlDbType.Bytea });
        cmd.Parameters.Add(new NpgsqlParameter { Value = replace, NpgsqlDbType = NpgsqlDbType.Boolean });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
