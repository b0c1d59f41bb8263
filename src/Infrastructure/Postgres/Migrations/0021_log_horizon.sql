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
create function es.log_horizon() returns xid8 language sql stable as $$
    with snap as (select pg_current_snapshot() as s),
         exempt as (select coalesce(array_agg(a.backend_xid), '{}') as xids
                      from pg_stat_get_activity(null) a
                     where a.application_name like 'steller-no-append%' and a.backend_xid is not null)
    select coalesce((select min(x) from snap, exempt, pg_snapshot_xip(snap.s) as x where not (x::xid = any (exempt.xids))),
                    (select pg_snapshot_xmax(s) from snap))
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
