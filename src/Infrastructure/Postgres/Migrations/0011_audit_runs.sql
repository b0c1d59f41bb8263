-- Audit runs (issue 16): every run of the ledger audit, the stock audit and each vendor reconciliation, whoever started it
-- (the nightly job, `steller ledger audit`, POST /admin/ledger/audit), with its result and drift lines. Analysts read
-- read.audit_runs; GET /admin/audits pages it.
create schema if not exists ops;
create schema if not exists read;

create table ops.audit_runs (
    id             bigserial   primary key,
    kind           text        not null,              -- ledger | stock | vendor-reconciliation | chain
    subject        text,                              -- vendor-reconciliation: '{vendor}:{currency}'; otherwise null
    trigger        text        not null,              -- nightly | cli | api
    started_at     timestamptz not null,
    finished_at    timestamptz not null,
    events_folded  bigint,                            -- events read from the log (null: the run folds no log)
    result         text        not null,              -- clean | behind | drift (audits); exact | drift (reconciliation); error
    flagged        boolean     not null,              -- drift or error: someone must look
    drift_lines    jsonb       not null default '[]'::jsonb,  -- one sentence per finding
    summary        jsonb                              -- the run's figures (reconciliation: balances, in flight, unexplained)
);
create index audit_runs_kind_id on ops.audit_runs (kind, id);

-- The nightly slot last claimed: a node runs the nightly audits when it moves this forward (one node per slot).
create table ops.audit_schedule (
    name       text        primary key,
    last_slot  timestamptz not null
);
insert into ops.audit_schedule (name, last_slot) values ('nightly', now()) on conflict do nothing;

create view read.audit_runs as
    select id, kind, subject, trigger, started_at, finished_at, events_folded, result, flagged, drift_lines, summary
      from ops.audit_runs;
comment on view read.audit_runs is
    'Every run of the ledger audit, the stock audit and each vendor reconciliation (nightly job, CLI, API), newest last.';
comment on column read.audit_runs.id is 'Run id, increasing.';
comment on column read.audit_runs.kind is 'ledger, stock, vendor-reconciliation or chain.';
comment on column read.audit_runs.subject is 'For a vendor reconciliation: vendor:currency (e.g. giftcard:EUR); otherwise null.';
comment on column read.audit_runs.trigger is 'Who started the run: nightly (the scheduled job), cli (steller ledger|stock audit) or api.';
comment on column read.audit_runs.started_at is 'When the run started.';
comment on column read.audit_runs.finished_at is 'When the run finished.';
comment on column read.audit_runs.events_folded is 'Events read from the event log by the run; null for a reconciliation (it folds no log).';
comment on column read.audit_runs.result is 'clean, behind (read model catching up, no drift) or drift for audits; exact or drift for reconciliations; error when the run could not finish.';
comment on column read.audit_runs.flagged is 'True when the result is drift or error: someone must look.';
comment on column read.audit_runs.drift_lines is 'JSON array of sentences, one per finding (empty when clean).';
comment on column read.audit_runs.summary is 'JSON figures of the run (a reconciliation: ledger and vendor balances, in flight, unexplained).';
