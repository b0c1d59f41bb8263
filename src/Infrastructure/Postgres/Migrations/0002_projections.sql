-- Projection bookkeeping. Read models themselves live in read_vN schemas behind views in schema "read".
create schema if not exists steller;
create schema if not exists read;

create table steller.projections (
    name              text primary key,
    active_generation int  not null,        -- N of the read_vN schema the views in "read" point at
    code_version      int  not null         -- the projection's declared version that built it
);

-- One row per (projection, generation): the live one and, during a rebuild, the next one.
-- The checkpoint is written in the same transaction as the read-model rows it covers.
create table steller.projection_checkpoints (
    name             text        not null,
    generation       int         not null,
    commit_position  bigint      not null default 0,
    prepare_position bigint      not null default 0,
    events_applied   bigint      not null default 0,
    last_event_at    timestamptz,
    updated_at       timestamptz not null default now(),
    primary key (name, generation)
);

-- Faults are written outside the batch transaction (which rolled back), so they stay visible.
create table steller.projection_faults (
    name        text        primary key,
    generation  int         not null,
    error       text        not null,
    attempts    int         not null,
    failed_at   timestamptz not null,
    position    text
);
