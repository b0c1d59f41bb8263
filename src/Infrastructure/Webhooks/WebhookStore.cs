using Dapper;
using Npgsql;

namespace Steller.Infrastructure.Webhooks;

/// <summary>An endpoint row (settable properties: Dapper reads text[] as an untyped array, which no constructor matches).</summary>
public sealed record WebhookEndpointRow
{
    public string Id { get; init; } = "";
    public string PartnerId { get; init; } = "";
    public string Url { get; init; } = "";
    public string[]? EventTypes { get; init; }
    public string? Description { get; init; }
    public bool Enabled { get; init; }
    public string SecretKeyId { get; init; } = "";
    public byte[] Secret { get; init; } = [];
    public string? PreviousKeyId { get; init; }
    public byte[]? PreviousSecret { get; init; }
    public DateTime? PreviousUntil { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    /// <summary>The first failed attempt since the last success (null: the last attempt succeeded, or none yet).</summary>
    public DateTime? FailingSince { get; init; }
    /// <summary>Why Steller disabled the endpoint ("failing"); null when enabled or disabled by its owner.</summary>
    public string? DisabledReason { get; init; }
}

/// <summary>A message to store: <see cref="Id"/> is its webhook-id.</summary>
public sealed record NewWebhookMessage(string Id, string EndpointId, string PartnerId, Guid? EventId, string Type, string? OrderingKey,
    long Sequence, string Body, DateTimeOffset CreatedAt);

/// <summary>A claimed message, with what its delivery needs (<see cref="LeaseUntil"/>: when the claim lapses).</summary>
public sealed record DueWebhookMessage(string Id, string EndpointId, string Body, int Attempts, string? OrderingKey, long Sequence, string Url,
    string SecretKeyId, byte[] Secret, string? PreviousKeyId, byte[]? PreviousSecret, DateTime? PreviousUntil, DateTime CreatedAt,
    DateTime LeaseUntil);

public sealed record WebhookMessageRow(long Seq, string Id, string Type, Guid? EventId, DateTime CreatedAt, string Status, int Attempts,
    DateTime? NextAttemptAt, string Body);

public sealed record WebhookAttemptRow(string MessageId, DateTime At, int? Status, string? Error, double LatencyMs, string? Response);

/// <summary>One attempt's outcome to record: the attempt, and the message's state after it (<see cref="Next"/>: due again, when pending).</summary>
public sealed record WebhookOutcome(string EndpointId, WebhookAttemptRow Attempt, bool Succeeded, string Status, int Attempts, DateTimeOffset? Next);

/// <summary>
/// What a batch of outcomes does to each endpoint's <c>failing_since</c> (the first failed attempt since the last success), as if
/// they were recorded one by one in order: after a success in the batch it is the first failure after the last success (or
/// null: <see cref="Reset"/>); with no success in the batch it is kept, or set to the batch's first failure when unset.
/// </summary>
public sealed record WebhookHealth(string EndpointId, bool Reset, DateTime? FailingAt)
{
    public static IReadOnlyList<WebhookHealth> Of(IReadOnlyList<WebhookOutcome> outcomes)
    {
        var result = new List<WebhookHealth>();
        foreach (var endpoint in outcomes.GroupBy(o => o.EndpointId, StringComparer.Ordinal))
        {
            var reset = false;
            DateTime? failingAt = null;
            foreach (var o in endpoint)
            {
                if (o.Succeeded) { reset = true; failingAt = null; }
                else failingAt ??= o.Attempt.At;
            }
            result.Add(new(endpoint.Key, reset, failingAt));
        }
        return result;
    }
}

/// <summary>The webhook tables (migration 0007). Every statement is short: nothing here is held open across a delivery.</summary>
public sealed class WebhookStore(NpgsqlDataSource dataSource)
{
    private const string EndpointColumns = """
        id, partner_id as PartnerId, url, event_types as EventTypes, description, enabled, secret_key_id as SecretKeyId, secret,
        previous_key_id as PreviousKeyId, previous_secret as PreviousSecret, previous_until as PreviousUntil, created_at as CreatedAt,
        updated_at as UpdatedAt, failing_since as FailingSince, disabled_reason as DisabledReason
        """;

    /// <summary>Inserts the endpoint unless the partner already has <paramref name="max"/>; false when it has.</summary>
    public async Task<bool> TryCreate(WebhookEndpointRow e, int max, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('webhook-endpoints:' || @PartnerId))",
            new { e.PartnerId }, tx, cancellationToken: ct));
        var count = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from ops.webhook_endpoints where partner_id = @PartnerId", new { e.PartnerId }, tx, cancellationToken: ct));
        if (count >= max) return false;
        await conn.ExecuteAsync(new CommandDefinition("""
            insert into ops.webhook_endpoints (id, partner_id, url, event_types, description, enabled, secret_key_id, secret, created_at, updated_at)
            values (@Id, @PartnerId, @Url, @EventTypes, @Description, @Enabled, @SecretKeyId, @Secret, @CreatedAt, @UpdatedAt)
            """, e, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<WebhookEndpointRow?> Get(string partnerId, string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<WebhookEndpointRow>(new CommandDefinition(
            $"select {EndpointColumns} from ops.webhook_endpoints where id = @id and partner_id = @partnerId", new { id, partnerId },
            cancellationToken: ct));
    }

    public async Task<IReadOnlyList<WebhookEndpointRow>> List(string partnerId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<WebhookEndpointRow>(new CommandDefinition(
            $"select {EndpointColumns} from ops.webhook_endpoints where partner_id = @partnerId order by created_at, id", new { partnerId },
            cancellationToken: ct))).AsList();
    }

    /// <summary>Every endpoint (the follower matches events against them).</summary>
    public async Task<IReadOnlyList<WebhookEndpointRow>> All(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<WebhookEndpointRow>(new CommandDefinition(
            $"select {EndpointColumns} from ops.webhook_endpoints", cancellationToken: ct))).AsList();
    }

    public async Task<bool> Update(WebhookEndpointRow e, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update ops.webhook_endpoints set url = @Url, event_types = @EventTypes, description = @Description, enabled = @Enabled,
                secret_key_id = @SecretKeyId, secret = @Secret, previous_key_id = @PreviousKeyId, previous_secret = @PreviousSecret,
                previous_until = @PreviousUntil, updated_at = @UpdatedAt, failing_since = @FailingSince, disabled_reason = @DisabledReason
            where id = @Id and partner_id = @PartnerId
            """, e, cancellationToken: ct)) == 1;
    }

    public async Task<bool> Delete(string partnerId, string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(
            "delete from ops.webhook_endpoints where id = @id and partner_id = @partnerId", new { id, partnerId }, cancellationToken: ct)) == 1;
    }

    /// <summary>Stores new messages, pending and due at <paramref name="now"/>; a message already stored stays as it is.</summary>
    public async Task<int> Add(IReadOnlyList<NewWebhookMessage> messages, DateTimeOffset now, CancellationToken ct) =>
        await Write(messages, now, "do nothing", ct);

    /// <summary>Stores the messages, or puts those already stored back to pending for a new round of attempts (resend, replay).</summary>
    public async Task<int> AddOrRedeliver(IReadOnlyList<NewWebhookMessage> messages, DateTimeOffset now, CancellationToken ct) =>
        await Write(messages, now,
            "do update set status = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, queued_at = excluded.queued_at", ct);

    private async Task<int> Write(IReadOnlyList<NewWebhookMessage> messages, DateTimeOffset now, string onConflict, CancellationToken ct)
    {
        if (messages.Count == 0) return 0;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition($"""
            insert into ops.webhook_messages (id, endpoint_id, partner_id, event_id, type, ordering_key, sequence, body, created_at, status,
                                              attempts, next_attempt_at, queued_at)
            select m.id, m.endpoint_id, m.partner_id, m.event_id, m.type, m.ordering_key, m.sequence, m.body, m.created_at, 'pending', 0, @now,
                   clock_timestamp()
            from unnest(@ids, @endpoints, @partners, @events, @types, @keys, @sequences, @bodies, @createdAt)
                 as m(id, endpoint_id, partner_id, event_id, type, ordering_key, sequence, body, created_at)
            where exists (select 1 from ops.webhook_endpoints e where e.id = m.endpoint_id)
            order by m.sequence
            on conflict (id) {onConflict}
            """, new
        {
            now,
            ids = messages.Select(m => m.Id).ToArray(),
            endpoints = messages.Select(m => m.EndpointId).ToArray(),
            partners = messages.Select(m => m.PartnerId).ToArray(),
            events = messages.Select(m => m.EventId).ToArray(),
            types = messages.Select(m => m.Type).ToArray(),
            keys = messages.Select(m => m.OrderingKey).ToArray(),
            sequences = messages.Select(m => m.Sequence).ToArray(),
            bodies = messages.Select(m => m.Body).ToArray(),
            createdAt = messages.Select(m => m.CreatedAt.UtcDateTime).ToArray(),
        }, cancellationToken: ct));
    }

    /// <summary>
    /// Claims due messages for one attempt each, in one statement: pending messages due at <paramref name="now"/> on enabled
    /// endpoints, oldest due first, at most <paramref name="limit"/> in all and, per endpoint, at most <paramref name="perEndpoint"/>
    /// minus what this node already has in flight to it (<paramref name="busy"/>), so one endpoint's backlog never crowds another
    /// out. A message waits while an earlier message of the same order (lower stream revision) to the same endpoint is pending;
    /// <paramref name="inFlight"/> (messages this node is still sending or recording) are never taken again. Taken messages have
    /// their due time moved to <paramref name="leaseUntil"/> (past the timeout: another node does not take them meanwhile, and a
    /// node that dies mid-attempt leaves them due again); rows another node is claiming at the same moment are skipped, not waited for.
    /// </summary>
    public async Task<IReadOnlyList<DueWebhookMessage>> ClaimDue(DateTimeOffset now, DateTimeOffset leaseUntil, int limit, int perEndpoint,
        IReadOnlyDictionary<string, int> busy, IReadOnlyCollection<string> inFlight, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<DueWebhookMessage>(new CommandDefinition("""
            with candidates as (
                select c.id from (
                    select m.id, m.next_attempt_at, m.seq,
                           row_number() over (partition by m.endpoint_id order by m.next_attempt_at, m.seq) as rank,
                           @perEndpoint - coalesce(b.busy, 0) as room
                    from ops.webhook_messages m
                    join ops.webhook_endpoints e on e.id = m.endpoint_id and e.enabled
                    left join unnest(@busyEndpoints, @busyCounts) as b(endpoint_id, busy) on b.endpoint_id = m.endpoint_id
                    where m.status = 'pending' and m.next_attempt_at <= @now and m.id <> all(@inFlight)
                      and (m.ordering_key is null or not exists (
                            select 1 from ops.webhook_messages p
                            where p.endpoint_id = m.endpoint_id and p.ordering_key = m.ordering_key and p.status = 'pending'
                              and p.sequence < m.sequence))
                ) c
                where c.rank <= c.room
                order by c.next_attempt_at, c.seq
                limit @limit
            ), taken as (
                select m.id from ops.webhook_messages m
                where m.id in (select id from candidates) and m.status = 'pending' and m.next_attempt_at <= @now
                for update skip locked
            )
            update ops.webhook_messages m set next_attempt_at = @leaseUntil
            from taken t, ops.webhook_endpoints e
            where m.id = t.id and e.id = m.endpoint_id
            returning m.id, m.endpoint_id as EndpointId, m.body, m.attempts, m.ordering_key as OrderingKey, m.sequence, e.url,
                      e.secret_key_id as SecretKeyId, e.secret, e.previous_key_id as PreviousKeyId, e.previous_secret as PreviousSecret,
                      e.previous_until as PreviousUntil, m.created_at as CreatedAt, m.next_attempt_at as LeaseUntil
            """, new
        {
            now, leaseUntil, limit, perEndpoint,
            busyEndpoints = busy.Keys.ToArray(),
            busyCounts = busy.Values.ToArray(),
            inFlight = inFlight.ToArray(),
        }, cancellationToken: ct))).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Records attempts and each message's state after its attempt, and the endpoints' health, in one statement (so one
    /// round trip and one implicit transaction for a whole batch of outcomes). An endpoint's <c>failing_since</c> is written only
    /// when it changes. True when a recorded message that is no longer pending has a later message of the same order pending
    /// at its endpoint (which may now be due).
    /// </summary>
    public async Task<bool> RecordMany(IReadOnlyList<WebhookOutcome> outcomes, CancellationToken ct)
    {
        if (outcomes.Count == 0) return false;
        var health = WebhookHealth.Of(outcomes);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition("""
            with o as (
                select * from unnest(@ids, @statuses, @attempts, @nexts, @ats, @httpStatuses, @errors, @latencies, @responses, @ords)
                    as o(id, status, attempts, next_at, at, http_status, error, latency_ms, response, ord)
            ), attempts as (
                insert into ops.webhook_attempts (message_id, at, status, error, latency_ms, response)
                select o.id, o.at, o.http_status, o.error, o.latency_ms, o.response from o
                where exists (select 1 from ops.webhook_messages m where m.id = o.id)
                order by o.ord
            ), messages as (
                update ops.webhook_messages m set status = o.status, attempts = o.attempts, next_attempt_at = o.next_at
                from o where m.id = o.id
                returning m.endpoint_id, m.ordering_key, m.sequence, m.status
            ), health as (
                update ops.webhook_endpoints e
                   set failing_since = case when h.reset then h.failing_at else coalesce(e.failing_since, h.failing_at) end
                from unnest(@healthIds, @healthResets, @healthFailingAt) as h(id, reset, failing_at)
                where e.id = h.id
                  and e.failing_since is distinct from (case when h.reset then h.failing_at else coalesce(e.failing_since, h.failing_at) end)
            )
            select exists (
                select 1 from messages d
                join ops.webhook_messages s on s.endpoint_id = d.endpoint_id and s.ordering_key = d.ordering_key
                where d.status <> 'pending' and d.ordering_key is not null and s.status = 'pending' and s.sequence > d.sequence)
            """, new
        {
            ids = outcomes.Select(o => o.Attempt.MessageId).ToArray(),
            statuses = outcomes.Select(o => o.Status).ToArray(),
            attempts = outcomes.Select(o => o.Attempts).ToArray(),
            nexts = outcomes.Select(o => o.Next?.UtcDateTime).ToArray(),
            ats = outcomes.Select(o => o.Attempt.At).ToArray(),
            httpStatuses = outcomes.Select(o => o.Attempt.Status).ToArray(),
            errors = outcomes.Select(o => o.Attempt.Error).ToArray(),
            latencies = outcomes.Select(o => o.Attempt.LatencyMs).ToArray(),
            responses = outcomes.Select(o => o.Attempt.Response).ToArray(),
            ords = Enumerable.Range(0, outcomes.Count).ToArray(),
            healthIds = health.Select(h => h.EndpointId).ToArray(),
            healthResets = health.Select(h => h.Reset).ToArray(),
            healthFailingAt = health.Select(h => h.FailingAt).ToArray(),
        }, cancellationToken: ct));
    }

    public async Task<(IReadOnlyList<WebhookMessageRow> Messages, IReadOnlyList<WebhookAttemptRow> Attempts)> Messages(string endpointId,
        string? status, string? type, long after, int limit, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var messages = (await conn.QueryAsync<WebhookMessageRow>(new CommandDefinition("""
            select seq, id, type, event_id as EventId, created_at as CreatedAt, status, attempts, next_attempt_at as NextAttemptAt, body
            from ops.webhook_messages
            where endpoint_id = @endpointId and seq > @after and (@status::text is null or status = @status) and (@type::text is null or type = @type)
            order by seq
            limit @limit
            """, new { endpointId, status, type, after, limit }, cancellationToken: ct))).AsList();
        var attempts = (await conn.QueryAsync<WebhookAttemptRow>(new CommandDefinition("""
            select message_id as MessageId, at, status, error, latency_ms as LatencyMs, response
            from ops.webhook_attempts where message_id = any(@ids) order by id
            """, new { ids = messages.Select(m => m.Id).ToArray() }, cancellationToken: ct))).AsList();
        return (messages, attempts);
    }

    /// <summary>Puts one message of the endpoint back to pending, due now; false when the endpoint has no such message.</summary>
    public async Task<bool> Resend(string endpointId, string messageId, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update ops.webhook_messages set status = 'pending', attempts = 0, next_attempt_at = @now
            where id = @messageId and endpoint_id = @endpointId
            """, new { endpointId, messageId, now }, cancellationToken: ct)) == 1;
    }

    /// <summary>Puts every failed message of the endpoint created since <paramref name="since"/> back to pending; how many.</summary>
    public async Task<int> Recover(string endpointId, DateTimeOffset since, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update ops.webhook_messages set status = 'pending', attempts = 0, next_attempt_at = @now
            where endpoint_id = @endpointId and status = 'failed' and created_at >= @since
            """, new { endpointId, since, now }, cancellationToken: ct));
    }

    /// <summary>Disables every enabled endpoint failing since <paramref name="failingBefore"/> or earlier (reason "failing"); their ids.</summary>
    public async Task<IReadOnlyList<string>> DisableFailing(DateTimeOffset failingBefore, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<string>(new CommandDefinition("""
            update ops.webhook_endpoints set enabled = false, disabled_reason = 'failing', updated_at = @now
            where enabled and failing_since <= @failingBefore
            returning id
            """, new { failingBefore, now }, cancellationToken: ct))).AsList();
    }

    /// <summary>Endpoints Steller disabled because they kept failing (not those their owner disabled).</summary>
    public async Task<IReadOnlyList<(string EndpointId, string PartnerId)>> DisabledForFailing(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string, string)>(new CommandDefinition(
            "select id, partner_id from ops.webhook_endpoints where not enabled and disabled_reason = 'failing'", cancellationToken: ct))).AsList();
    }

    /// <summary>Endpoints with messages that failed for good, and how many.</summary>
    public async Task<IReadOnlyList<(string EndpointId, string PartnerId, long Failed)>> FailedByEndpoint(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string, string, long)>(new CommandDefinition("""
            select endpoint_id, min(partner_id), count(*) from ops.webhook_messages where status = 'failed' group by endpoint_id
            """, cancellationToken: ct))).AsList();
    }

    /// <summary>Pending messages, and how long the oldest due one has been waiting past its due time (the queue's depth and lag).</summary>
    public async Task<(long Pending, long Due, double LagSeconds)> Queue(DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<(long, long, double)>(new CommandDefinition("""
            select count(*), count(*) filter (where m.next_attempt_at <= @now and e.enabled),
                   coalesce(extract(epoch from (@now - min(m.next_attempt_at) filter (where m.next_attempt_at <= @now and e.enabled))), 0)::float8
              from ops.webhook_messages m join ops.webhook_endpoints e on e.id = m.endpoint_id
             where m.status = 'pending'
            """, new { now }, cancellationToken: ct));
    }
}
