-- The gap-safe horizon without the long transactions that never append (docs/architecture.md, "The global log").
-- A reader of the log returns only events of transactions older than every transaction that may still append. That was
-- every running transaction (pg_snapshot_xmin): a read-model batch, which appends nothing, held every reader back for as
-- long as it ran, and events committed meanwhile waited (the webhook and completion lag of issues 11 and 14).
--
-- Two parts:
--  * A session started with the setting steller.never_appends = on declares that it never appends: the trigger below
--    refuses an insert into es.events from one (the read models' and the chain's pool, Postgres.NoAppendDataSource, which
--    passes "-c steller.never_appends=on" in its startup options; its application_name stays the node's name).
--  * A transaction of such a session that runs long announces its transaction id in es.never_appending (from another
--    connection, after ~10 ms: short ones never pay for it), and es.log_horizon() leaves the announced ones out.
-- Every other running transaction still counts, and so does a marked one not announced yet: leaving out too little only
-- delays a reader, never lets it skip an event. The snapshot is the reading statement's own (pg_current_snapshot() is the
-- active snapshot of the statement calling this stable function). An earlier version found the marked transactions by
-- reading pg_stat_get_activity on every log read: ~4 ms a read under load (docs/benchmarks.md); this one looks up a few
-- ids in a table of a few rows, and only while a transaction is running.
create function es.refuse_no_append_sessions() returns trigger language plpgsql as $$
begin
    if current_setting('steller.never_appends', true) = 'on' then
        raise exception 'es.events: this session (application_name %) is marked as never appending (steller.never_appends); readers of the log do not wait for it',
            current_setting('application_name') using errcode = '42501';
    end if;
    return null;
end
$$;

create trigger events_refuse_no_append_sessions before insert on es.events
    for each statement execute function es.refuse_no_append_sessions();

-- Announced transaction ids of marked sessions. Rows of finished transactions are deleted by the next announcement.
create table es.never_appending (
    xid xid8 primary key
);

-- PL/pgSQL, not SQL: its statements' plans are cached per session (a SQL body is planned on every call).
create function es.log_horizon() returns xid8 language plpgsql stable as $$
declare
    snap    pg_snapshot := pg_current_snapshot();
    horizon xid8;
begin
    if pg_snapshot_xmin(snap) = pg_snapshot_xmax(snap) then
        return pg_snapshot_xmax(snap); -- nothing running
    end if;
    select min(x) into horizon
      from pg_snapshot_xip(snap) as x
     where not exists (select 1 from es.never_appending n where n.xid = x);
    return coalesce(horizon, pg_snapshot_xmax(snap));
end
$$;
