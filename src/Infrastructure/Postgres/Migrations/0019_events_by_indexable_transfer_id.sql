-- A stream's events by the transfer id they carry (docs/architecture.md, "The wallet's idempotency memory"): a wallet's state
-- forgets its closed holds and posted transfers, and a command naming one of their transfer ids has the record folded again
-- from just these events.
--
-- The expression is evaluated on every append, so it must not fail on any text an event may hold (es.events.data is json,
-- kept as written: a "\u0000" escape, a lone surrogate escape, 100 KB of text). It reads the stored text as it is
-- (json::text, nothing de-escaped) and captures an id only when it is 1-128 of [A-Za-z0-9:._-] followed by the closing
-- quote: such an id is written verbatim, every other one (too long, or with a character JSON may escape) is not indexed.
-- Steller.Domain.TransferIdIndex.Covers is the same rule in C#, and PostgresEventStore.TransferIdExpression this text
-- (tests hold all three to agree); a state never forgets a record the index does not cover.
--
-- The index of an earlier, reverted migration (data->>'transferId') failed appends on such text: dropped where it exists.
-- Built in the migration's transaction: on a large existing log it blocks appends while it builds.
drop index if exists es.events_transfer_id;
create index events_by_transfer_id on es.events
    (stream_id, (substring(data::text from '"transferId":"([A-Za-z0-9:._-]{1,128})"')))
    where substring(data::text from '"transferId":"([A-Za-z0-9:._-]{1,128})"') is not null;
