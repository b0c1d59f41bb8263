-- Event store: streams and one global log, gap-safe by transaction id (see ARCHITECTURE.md).
create schema if not exists es;

create table es.streams (
    stream_id text   primary key,
    revision  bigint not null          -- revision of the stream's last event (first event is 0)
);

create table es.events (
    position       bigint      generated always as identity,
    transaction_id xid8        not null default pg_current_xact_id(),
    stream_id      text        not null,
    revision       bigint      not null,
    event_id       uuid        not null,
    event_type     text        not null,
    data           json        not null,   -- json keeps the bytes as written, as EventStoreDB does
    metadata       json        not null,
    recorded_at    timestamptz not null,
    primary key (stream_id, revision)
);
-- Event ids are unique per stream: re-appending one is an idempotent no-op.
create unique index events_stream_event_id on es.events (stream_id, event_id);
-- The global log order. Readers only return rows whose transaction is older than every running one.
create unique index events_log_order on es.events (transaction_id, position);

-- Append in one round trip. p_expected: -1 no stream, -2 any, -3 stream exists, >= 0 exact revision.
-- outcome 0 = appended (or empty append accepted), 1 = every id already stored (idempotent), 2 = wrong expected revision.
create or replace function es.append(
    p_stream text, p_expected bigint,
    p_ids uuid[], p_types text[], p_data json[], p_metadata json[], p_recorded_at timestamptz[])
returns table (outcome smallint, revision bigint, transaction_id xid8, log_position bigint)
language plpgsql as $$
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
        select count(*) into v_found from es.events e where e.stream_id = p_stream and e.event_id = any(p_ids);
        if v_found = v_count then
            return query select 1::smallint, e.revision, e.transaction_id, e.position
                         from es.events e where e.stream_id = p_stream and e.event_id = any(p_ids)
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
