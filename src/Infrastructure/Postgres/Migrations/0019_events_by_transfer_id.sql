-- A stream's events by the transfer id they carry (docs/architecture.md, "Snapshots" and "The wallet's idempotency memory"):
-- a wallet's state forgets its closed holds and posted transfers, and a command naming one of their transfer ids has the
-- record folded again from just these events. Only events with a transfer id are indexed (wallet and stock transfers).
-- Built in the migration's transaction: on a large existing log it blocks appends while it builds.
create index events_transfer_id on es.events (stream_id, (data->>'transferId')) where (data->>'transferId') is not null;
