-- Aggregate snapshots (docs/architecture.md, "Snapshots"): the newest state of a long stream, so that loading it after a
-- restart reads only the events after it. A cache of the fold, kept in Steller's own database whichever store holds the
-- events: revision and event_id name the stream's event the state was taken after (the anchor, checked on every load), tag
-- the state's shape, fold version and event schema. A row that does not match is ignored, never trusted.
create table steller.snapshots (
    stream_id  text        primary key,
    revision   bigint      not null,
    event_id   uuid        not null,
    tag        text        not null,
    state      bytea       not null,
    written_at timestamptz not null default now()
);
-- The state is compressed by the writer already: PostgreSQL stores it out of line without compressing it again.
alter table steller.snapshots alter column state set storage external;
