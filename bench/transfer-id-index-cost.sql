-- What the transfer-id index (migration 0019) costs on appends (docs/benchmarks.md, "Cold start ... bounded idempotency
-- memory"): 200,000 wallet events (holds and captures of one stream) inserted 2,000 per committed statement into a copy
-- of es.events with its three indexes: with no transfer-id index, with migration 0019's, and with the reverted one.
--   psql -h 127.0.0.1 -p PORT -U steller -d postgres -q -f bench/transfer-id-index-cost.sql 2>&1 | grep 'per event'
\set ON_ERROR_STOP 1
drop database if exists append_cost;
create database append_cost;
\c append_cost
create table src as
select 'wallet-cold-EUR'::text stream_id, g::bigint revision, gen_random_uuid() event_id,
       case when g % 2 = 0 then 'wallet.hold-placed.v1' else 'wallet.hold-captured.v1' end event_type,
       (case when g % 2 = 0 then '{"transferId":"order-' || (g/2) || '","amount":100,"expiresAt":null,"orderId":"order-' || (g/2) || '"}'
             else '{"transferId":"order-' || (g/2) || '","amount":100,"released":0,"legs":[{"account":"platform:revenue:EUR","amount":100}]}' end)::json data,
       '{"correlationId":"c","causationId":"c","actor":"bench"}'::json metadata
from generate_series(0, 199999) g;
create table ev (
    position bigint generated always as identity, transaction_id xid8 not null default pg_current_xact_id(),
    stream_id text not null, revision bigint not null, event_id uuid not null, event_type text not null,
    data json not null, metadata json not null, recorded_at timestamptz not null default now(), primary key (stream_id, revision));
create unique index ev_stream_event_id on ev (stream_id, event_id);
create unique index ev_log_order on ev (transaction_id, position);
create or replace procedure run(variant text) language plpgsql as $$
declare t0 timestamptz; i int;
begin
  truncate ev;
  drop index if exists ev_tid;
  if variant = 'new' then
    create index ev_tid on ev (stream_id, (case when left(data::text, 144) ~ '^[{]"transferId":"[A-Za-z0-9:._-]+"' then split_part(substr(data::text, 16, 129), '"', 1) end))
      where (case when left(data::text, 144) ~ '^[{]"transferId":"[A-Za-z0-9:._-]+"' then split_part(substr(data::text, 16, 129), '"', 1) end) is not null;
  elsif variant = 'old' then
    create index ev_tid on ev (stream_id, (data->>'transferId')) where (data->>'transferId') is not null;
  end if;
  commit;
  t0 := clock_timestamp();
  for i in 0..99 loop  -- appends of 2,000 events, each committed
    insert into ev (stream_id, revision, event_id, event_type, data, metadata)
      select stream_id, revision, event_id, event_type, data, metadata from src where revision >= i * 2000 and revision < (i + 1) * 2000;
    commit;
  end loop;
  raise notice '% : % ms for 200,000 events (% us per event)', rpad(variant, 4),
    round(extract(epoch from clock_timestamp() - t0)::numeric * 1000), round(extract(epoch from clock_timestamp() - t0)::numeric * 5, 1);
end $$;
create index src_rev on src (revision);
analyze src;
call run('none'); call run('new'); call run('old');
call run('new'); call run('none'); call run('old');
call run('old'); call run('new'); call run('none');
call run('none'); call run('new'); call run('old');
\c postgres
drop database append_cost;
