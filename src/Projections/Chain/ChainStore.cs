using Npgsql;
using NpgsqlTypes;
using Steller.Application.EventStore;

namespace Steller.Projections.Chain;

/// <summary>A sealed link of the chain: the n-th event of the log (from 1), where it is, and the chain's hash after it.</summary>
public sealed record ChainLink(long Sequence, LogPosition Position, byte[] Hash, DateTimeOffset SealedAt)
{
    public string HashHex => ChainHasher.Hex(Hash);
}

/// <summary>SQL for es.chain (migration 0010): one row per sealed event, in log order, numbered without gaps.</summary>
public sealed class ChainStore(NpgsqlDataSource dataSource)
{
    public NpgsqlDataSource DataSource => dataSource;

    /// <summary>The last sealed link, or null when nothing is sealed yet.</summary>
    public async Task<ChainLink?> Head(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            "select sequence, commit_position, prepare_position, hash, sealed_at from es.chain order by sequence desc limit 1");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Link(r) : null;
    }

    /// <summary>The last sealed link strictly before <paramref name="position"/> (null when there is none).</summary>
    public async Task<ChainLink?> LastBefore(LogPosition position, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select sequence, commit_position, prepare_position, hash, sealed_at from es.chain
            where (commit_position, prepare_position) < ($1, $2)
            order by commit_position desc, prepare_position desc limit 1
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)position.Commit });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)position.Prepare });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Link(r) : null;
    }

    /// <summary>The link <paramref name="offset"/> + 1 places after sequence <paramref name="afterSequence"/> (null past the end).</summary>
    public async Task<ChainLink?> LinkAfter(long afterSequence, long offset, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            "select sequence, commit_position, prepare_position, hash, sealed_at from es.chain where sequence > $1 order by sequence offset $2 limit 1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        cmd.Parameters.Add(new NpgsqlParameter { Value = offset });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Link(r) : null;
    }

    /// <summary>The link sealed for the event at <paramref name="position"/> (null when none).</summary>
    public async Task<ChainLink?> At(LogPosition position, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            "select sequence, commit_position, prepare_position, hash, sealed_at from es.chain where (commit_position, prepare_position) = ($1, $2)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)position.Commit });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)position.Prepare });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Link(r) : null;
    }

    /// <summary>Up to <paramref name="max"/> links after sequence <paramref name="afterSequence"/>, in sequence order.</summary>
    public async Task<IReadOnlyList<ChainLink>> Read(long afterSequence, int max, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select sequence, commit_position, prepare_position, hash, sealed_at from es.chain
            where sequence > $1 order by sequence limit $2
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)max });
        var links = new List<ChainLink>(Math.Min(max, 10_000));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) links.Add(Link(r));
        return links;
    }

    /// <summary>
    /// Appends links in one statement. They must continue the head: a second sealer (or a stale head) collides on the
    /// sequence and nothing is written.
    /// </summary>
    public async Task Append(IReadOnlyList<ChainLink> links, CancellationToken ct)
    {
        if (links.Count == 0) return;
        await using var cmd = dataSource.CreateCommand("""
            insert into es.chain (sequence, commit_position, prepare_position, hash, sealed_at)
            select s, c, p, h, now() from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[]) as t(s, c, p, h)
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = links.Select(l => l.Sequence).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = links.Select(l => (long)l.Position.Commit).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = links.Select(l => (long)l.Position.Prepare).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = links.Select(l => l.Hash).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static ChainLink Link(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        new LogPosition((ulong)r.GetInt64(1), (ulong)r.GetInt64(2)),
        r.GetFieldValue<byte[]>(3),
        new DateTimeOffset(r.GetFieldValue<DateTime>(4), TimeSpan.Zero));
}
