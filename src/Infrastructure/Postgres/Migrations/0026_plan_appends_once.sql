-- Plan once, not on every append (issue 11). A profile of appends spread over 1,000 wallets put 12.5 % of the machine's
-- CPU in planning inside es.append and es.append_many (docs/benchmarks.md): PostgreSQL judged the custom plans of their
-- idempotency and lock queries cheaper than a generic one, so it planned them again on every call (pg_stat_statements
-- with track = all: 30 calls, 31 plans). Both functions now run with plan_cache_mode = force_generic_plan: each statement
-- is planned once per session.
--
-- A generic plan must be right for every stream, short or a hot wallet of a million events. The statements of both
-- functions were checked with EXPLAIN EXECUTE under force_generic_plan; all look streams and events up by their unique
-- indexes, except es.append's idempotency check, whose generic plan (event_id = any($2)) scanned every index entry of
-- the stream (Index Cond on stream_id only, because the average stream is short). It now probes each id on both
-- columns (a lateral lookup with limit 1, whose only plan is the unique index's), counting distinct ids as before.

create or replace function es.append(
    p_stream text, p_expected bigint,
    p_ids uuid[], p_types text[], p_data json[], p_metadata json[], p_recorded_at timestamptz[])
returns table (outcome smallint, revision bigint, transaction_id xid8, log_position bigint)
language plpgsql
set plan_cache_mode = force_generic_plan
as $$
declare
    v_count   int := coalesce(cardinality(p_ids), 0);
    v_current bigint;
    v_created boolean := false;
    v_found   int;
begin
    -- Lock the stream row, creating it when missing, so writers of one stream queue here and nowhere else.
    loop
        select s.revision into v_current from es.streams s where s.stream_id = p_stream for update;
        exit when found;
        insert into es.streams as s (stream_id, revision) values (p_stream, -1) on conflict do nothing;
        if found then v_current := -1; v_created := true; exit; end if;
    end loop;

    if v_current >= 0 and v_count > 0 then
        -- One probe per id on both columns of events_stream_event_id: the one plan that is right for every stream.
        select count(distinct i.id) into v_found
          from unnest(p_ids) as i(id)
          cross join lateral (select 1 from es.events e where e.stream_id = p_stream and e.event_id = i.id limit 1) e;
        if v_found = v_count then
            return query select 1::smallint, e.revision, e.transaction_id, e.position
                         from unnest(p_ids) as i(id)
                         cross join lateral (select e.revision, e.transaction_id, e.position from es.events e
                                              where e.stream_id = p_stream and e.event_id = i.id limit 1) e
                         order by e.revision desc limit 1;
            return;
        elsif v_found > 0 then
            -- Part of the batch is stored already: not the same append, so not idempotent (as EventStoreDB).
            return query select 2::smallint, v_current, null::xid8, null::bigint;
            return;
        end if;
    end if;

    if (p_expected = -1 and v_current <> -1)
       or (p_expected = -3 and v_current = -1)
       or (p_expected >= 0 and v_current <> p_expected) then
        if v_created then delete from es.streams s where s.stream_id = p_stream; end if;
        return query select 2::smallint, v_current, null::xid8, null::bigint;
        return;
    end if;

    if v_count = 0 then
        if v_created then delete from es.streams s where s.stream_id = p_stream; end if;
        return query select 0::smallint, v_current, null::xid8, null::bigint;
        return;
    end if;

    update es.streams s set revision = v_current + v_count where s.stream_id = p_stream;
    return query
        with inserted as (
            insert into es.events (stream_id, revision, event_id, event_type, data, metadata, recorded_at)
            select p_stream, v_current + t.ord, t.id, t.type, t.data, t.meta, t.at
            from unnest(p_ids, p_types, p_data, p_metadata, p_recorded_at) with ordinality as t(id, type, data, meta, at, ord)
            order by t.ord
            returning es.events.revision, es.events.transaction_id, es.events.position)
        select 0::smallint, i.revision, i.transaction_id, i.position from inserted i order by i.revision desc limit 1;
    -- No pg_notify here: PostgreSQL serialises the commits of notifying transactions behind one lock held through
    -- the WAL flush, which made concurrent durable appends slower than one writer. Writers poke LogNotifications,
    -- which wakes local subscribers at once and sends one coalesced NOTIFY on a side connection for other nodes.
end
$$;

alter function es.append_many(text[], bigint[], int[], uuid[], text[], json[], json[], timestamptz[])
    set plan_cache_mode = force_generic_plan;
