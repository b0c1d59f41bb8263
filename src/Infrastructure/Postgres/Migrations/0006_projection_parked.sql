-- Events a projection could not apply and set aside to go on (its failure policy is "park"; financial read models stop
-- instead). `steller projections parked` lists them, `steller projections retry` applies them again and removes each
-- one that applies. Written in the transaction that moves the projection's checkpoint past the event.
create table steller.projection_parked (
    projection       text        not null,
    generation       int         not null,  -- the read_vN it was parked from; a rebuild's swap drops the old generation's
    commit_position  bigint      not null,
    prepare_position bigint      not null,
    event_id         uuid        not null,
    stream_id        text        not null,
    stream_revision  bigint      not null,
    event_type       text        not null,
    error            text        not null,
    attempts         int         not null default 1,
    parked_at        timestamptz not null default now(),
    retried_at       timestamptz,
    primary key (projection, event_id)
);
create index on steller.projection_parked (projection, commit_position, prepare_position);
