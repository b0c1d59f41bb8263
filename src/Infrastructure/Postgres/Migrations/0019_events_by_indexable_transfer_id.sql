-- A stream's events by the transfer id they carry (docs/architecture.md, "The wallet's idempotency memory"): a wallet's state
-- forgets its closed holds and posted transfers, and a command naming one of their transfer ids has the record folded again
-- from just these events.
--
-- The expression is evaluated on every append, so it must not fail on any text an event may hold (es.events.data is json,
-- kept as written: a "\u0000" escape, a lone surrogate escape, 100 KB of text). It reads the first 144 characters of the
-- stored text as they are (json::text, nothing de-escaped) and takes the id only when the data begins with
-- {"transferId":" followed by 1-128 of [A-Za-z0-9:._-] and the closing quote: such an id is written verbatim (every wallet
-- event writes its transfer id first), every other one (too long, a character JSON may escape, not the first field) is not
-- indexed. Steller.Domain.TransferIdIndex.Covers is the same rule in C#, PostgresEventStore.TransferIdExpression this text;
-- tests hold the three to agree, and a state never forgets a record the index does not cover. A match test and plain string
-- functions, not a regex capture: PostgreSQL's capturing of a bounded repetition cost ~70 us per event (docs/benchmarks.md).
--
-- The index of an earlier, reverted migration (data->>'transferId') failed appends on such text: dropped where it exists.
-- Built in the migration's transaction: on a large existing log it blocks appends while it builds.
drop index if exists es.events_transfer_id;
create index events_by_transfer_id on es.events (stream_id, (case when left(data::text, 144) ~ '^[{]"transferId":"[A-Za-z0-9:._-]+"' then split_part(substr(data::text, 16, 129), '"', 1) end))
    where (case when left(data::text, 144) ~ '^[{]"transferId":"[A-Za-z0-9:._-]+"' then split_part(substr(data::text, 16, 129), '"', 1) end) is not null;
