-- Group commit in one statement (issue 11): es.append_many takes the appends of a group, each to a different stream, and
-- gives each the outcome es.append would give it alone. es.append per stream inside the group's transaction cost about
-- five statements of PL/pgSQL per stream (lock, idempotency check, revision update, insert), and that CPU on
-- PostgreSQL's side was the limit of appends spread over many streams (docs/benchmarks.md); here the whole group is
-- about six set-based statements.
--
-- The caller (PostgresEventStore.Commit) sends every stream at most once per call (a group with two appends to one
-- stream becomes two calls in the same transaction) and in ordinal order of stream id, the order es.append is called
-- in, so groups lock streams in one order and never deadlock each other.
--
-- p_of gives, for each event, the 1-based index of its append; an append with no events has no entry. Answers one row
-- per append, in order: outcome 0 appended (or an empty append accepted), 1 every id already stored (idempotent),
-- 2 wrong expected revision; p_expected as es.append: -1 no stream, -2 any, -3 stream exists, >= 0 exact revision.
create function es.append_many(
    p_streams text[], p_expected bigint[], p_of int[],
    p_ids uuid[], p_types text[], p_data json[], p_metadata json[], p_recorded_at timestamptz[])
returns table (outcome smallint, revision bigint, transaction_id xid8, log_position bigint)
language plpgsql as $$
declare
    n          int := coalesce(cardinality(p_streams), 0);
    v_count    int[] := array_fill(0, array[n]);
    v_current  bigint[] := array_fill(-1::bigint, array[n]);
    v_outcome  smallint[] := array_fill(0::smallint, array[n]);
    v_revision bigint[];
    v_txid     xid8[] := array_fill(null::xid8, array[n]);
    v_position bigint[] := array_fill(null::bigint, array[n]);
    v_created  text[];
    v_drop     text[] := '{}';
    v_writes   boolean := false;
    r          record;
    i          int;
begin
    if n = 0 then return; end if;
    if n <> coalesce(cardinality(p_expected), 0) or coalesce(cardinality(p_of), 0) <> coalesce(cardinality(p_ids), 0) then
        raise exception 'es.append_many: arrays of different lengths' using errcode = '22023';
    end if;
    foreach i in array coalesce(p_of, '{}') loop
        v_count[i] := v_count[i] + 1;
    end loop;

    -- Streams that may be created (no stream / any, with events): their rows first, in stream order. A row another
    -- transaction is creating makes this one wait for it, as es.append does.
    with created as (
        insert into es.streams as s (stream_id, revision)
        select t.id, -1 from unnest(p_streams, p_expected, v_count) with ordinality as t(id, expected, events, ord)
         where t.expected in (-1, -2) and t.events > 0
         order by t.ord
        on conflict do nothing
        returning s.stream_id)
    select coalesce(array_agg(c.stream_id), '{}') into v_created from created c;

    -- Then every stream's row, locked in the same order (code-point order, as the caller sorts).
    for r in select t.ord, s.revision
               from unnest(p_streams) with ordinality as t(id, ord)
               join (select s.stream_id, s.revision from es.streams s where s.stream_id = any(p_streams)
                      order by s.stream_id collate "C" for update) s on s.stream_id = t.id loop
        v_current[r.ord] := r.revision;
    end loop;
    v_revision := v_current;

    -- Idempotency: appends to existing streams whose ids are stored already (all: the same append again; some: not).
    for r in select distinct on (t.a) t.a, count(*) over (partition by t.a) as found, e.revision, e.transaction_id, e.position
               from unnest(p_of, p_ids) as t(a, id)
               join es.events e on e.stream_id = p_streams[t.a] and e.event_id = t.id
              where v_current[t.a] >= 0
              order by t.a, e.revision desc loop
        if r.found = v_count[r.a] then
            v_outcome[r.a] := 1;
            v_revision[r.a] := r.revision;
            v_txid[r.a] := r.transaction_id;
            v_position[r.a] := r.position;
        else
            v_outcome[r.a] := 2;
        end if;
    end loop;

    for i in 1 .. n loop
        continue when v_outcome[i] <> 0;
        if (p_expected[i] = -1 and v_current[i] <> -1)
           or (p_expected[i] = -3 and v_current[i] = -1)
           or (p_expected[i] >= 0 and v_current[i] <> p_expected[i]) then
            v_outcome[i] := 2;
        elsif v_count[i] > 0 then
            v_writes := true;
        end if;
        -- A row created above for an append that writes nothing goes again.
        if (v_outcome[i] <> 0 or v_count[i] = 0) and p_streams[i] = any(v_created) then
            v_drop := v_drop || p_streams[i];
        end if;
    end loop;
    if cardinality(v_drop) > 0 then
        delete from es.streams s where s.stream_id = any(v_drop);
    end if;

    if v_writes then
        update es.streams s set revision = v_current[t.ord] + v_count[t.ord]
          from unnest(p_streams) with ordinality as t(id, ord)
         where s.stream_id = t.id and v_outcome[t.ord] = 0 and v_count[t.ord] > 0;

        for r in with inserted as (
                     insert into es.events (stream_id, revision, event_id, event_type, data, metadata, recorded_at)
                     select p_streams[t.a], v_current[t.a] + row_number() over (partition by t.a order by t.ord), t.id, t.type, t.data, t.meta, t.at
                       from unnest(p_of, p_ids, p_types, p_data, p_metadata, p_recorded_at) with ordinality as t(a, id, type, data, meta, at, ord)
                      where v_outcome[t.a] = 0
                      order by t.ord
                     returning es.events.stream_id, es.events.revision, es.events.transaction_id, es.events.position)
                 select distinct on (u.ord) u.ord, i2.revision, i2.transaction_id, i2.position
                   from inserted i2 join unnest(p_streams) with ordinality as u(id, ord) on u.id = i2.stream_id
                  order by u.ord, i2.revision desc loop
            v_revision[r.ord] := r.revision;
            v_txid[r.ord] := r.transaction_id;
            v_position[r.ord] := r.position;
        end loop;
    end if;

    return query
        select v_outcome[t.ord], case when v_outcome[t.ord] = 2 then v_current[t.ord] else v_revision[t.ord] end, v_txid[t.ord], v_position[t.ord]
          from generate_series(1, n) as t(ord)
         order by t.ord;
end
$$;
