-- The gap-safe horizon without the transactions that never append (docs/architecture.md, "The global log").
-- A reader of the log returns only events of transactions older than every transaction that may still append. That was
-- every running transaction (pg_snapshot_xmin): a read-model batch or a Quartz trigger transaction, which append nothing,
-- held every reader back for as long as they ran, and events committed meanwhile waited (the webhook and completion lag).
-- A connection whose application_name starts with 'steller-no-append' declares that it never appends: the trigger below
-- refuses an insert into es.events from one, and es.log_horizon() leaves out the transactions such sessions are running.
-- Every other running transaction still counts, including one whose session cannot be seen or has moved on since the
-- reader's snapshot (its transaction id is then not found against a marked session): leaving out too little only delays
-- a reader, never lets it skip an event. The snapshot is the reading statement's own (pg_current_snapshot() is the active
-- snapshot), and the sessions are read after it was taken.
-- PL/pgSQL, not SQL: its statement's plan is cached per session (a SQL function with this body was planned on every
-- call: ~1.2 ms against ~0.04 ms), and with no transaction running the sessions are not read at all.
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
     where not (x::xid = any (array(select a.backend_xid from pg_stat_get_activity(null) a
                                    where a.application_name like 'steller-no-append%' and a.backend_xid is not null)));
    return coalesce(horizon, pg_snapshot_xmax(snap));
end
$$;

create function es.refuse_no_append_sessions() returns trigger language plpgsql as $$
begin
    if current_setting('application_name') like 'steller-no-append%' then
        raise exception 'es.events: this session (application_name %) is marked as never appending; readers of the log do not wait for it',
            current_setting('application_name') using errcode = '42501';
    end if;
    return null;
end
$$;

create trigger events_refuse_no_append_sessions before insert on es.events
    for each statement execute function es.refuse_no_append_sessions();
