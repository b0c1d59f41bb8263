-- The tamper-evident log: a hash chain over the global log (docs/ledger-verification.md).
-- hash(n) = SHA-256(hash(n-1) || canonical bytes of event n), hash(0) = 32 zero bytes. Written by the chain sealer after the
-- events commit (no trigger on the append path); read by `steller ledger verify` and GET /admin/ledger/head.
-- Positions are the event store's log positions: (transaction id, position) with PostgreSQL, (commit, prepare) of $all with
-- EventStoreDB; the chain itself is always kept here.
create table es.chain (
    sequence         bigint      primary key,   -- n: the n-th event of the log, from 1, without gaps
    commit_position  bigint      not null,
    prepare_position bigint      not null,
    hash             bytea       not null check (length(hash) = 32),
    sealed_at        timestamptz not null,
    unique (commit_position, prepare_position)
);
comment on table es.chain is 'Hash chain over the global log: one row per sealed event, in log order (docs/ledger-verification.md).';
