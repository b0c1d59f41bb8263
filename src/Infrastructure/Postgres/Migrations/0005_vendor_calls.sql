-- Vendor call observations (one row per HTTP attempt at a vendor) and catalog syncs, for operations.
-- Written in batches by PostgresVendorCallObserver; never on a vendor call's path.
create schema if not exists ops;
create schema if not exists read;

create table ops.vendor_calls (
    id          bigserial        primary key,
    at          timestamptz      not null,              -- when the attempt started
    vendor      text             not null,              -- 'giftcard' | 'topup'
    operation   text             not null,              -- catalog, checkout, order, transfer, transfers, ...
    status      int,                                    -- HTTP status; null: no response (timeout, connection error)
    latency_ms  double precision not null,
    was_429     boolean          not null,
    was_error   boolean          not null               -- no response or 5xx
);
create index vendor_calls_vendor_at on ops.vendor_calls (vendor, at);
create index vendor_calls_at on ops.vendor_calls (at);

create table ops.vendor_catalog_syncs (
    id        bigserial   primary key,
    at        timestamptz not null,
    vendor    text        not null,
    products  int         not null
);
create index vendor_catalog_syncs_vendor_at on ops.vendor_catalog_syncs (vendor, at);

-- Per vendor over the last hour: calls, errors, 429s, latency percentiles; and the last complete catalog sync (any age).
create view read.vendor_health as
with recent as (
    select * from ops.vendor_calls where at > now() - interval '1 hour'
), vendors as (
    select vendor from recent union select vendor from ops.vendor_catalog_syncs
)
select v.vendor,
       count(r.id)                                                   as calls,
       count(r.id) filter (where r.was_error)                        as errors,
       count(r.id) filter (where r.was_429)                          as rate_limited,
       percentile_cont(0.50) within group (order by r.latency_ms)    as p50_ms,
       percentile_cont(0.95) within group (order by r.latency_ms)    as p95_ms,
       percentile_cont(0.99) within group (order by r.latency_ms)    as p99_ms,
       max(r.at)                                                     as last_call_at,
       s.at                                                          as last_catalog_sync_at,
       s.products                                                    as last_catalog_products
from vendors v
left join recent r on r.vendor = v.vendor
left join lateral (
    select c.at, c.products from ops.vendor_catalog_syncs c where c.vendor = v.vendor order by c.at desc limit 1
) s on true
group by v.vendor, s.at, s.products;
