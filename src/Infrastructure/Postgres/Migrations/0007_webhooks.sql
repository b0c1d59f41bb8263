-- Webhooks (docs/webhooks.md). Endpoints are partner configuration kept as plain operational rows (their secrets sealed by
-- the key ring); messages are derived from the event log by the webhook_messages follower (one row per event and
-- subscribed endpoint, id = webhook-id, derived from both); attempts record every delivery try.
create schema if not exists ops;

create table ops.webhook_endpoints (
    id                   text        primary key,      -- ep_ + 26 base32 characters
    partner_id           text        not null,
    url                  text        not null,
    event_types          text[],                       -- null: every type
    description          text,
    enabled              boolean     not null,
    secret_key_id        text        not null,         -- key ring key id
    secret               bytea       not null,         -- sealed "whsec_..." (context: the endpoint id)
    previous_key_id      text,
    previous_secret      bytea,                        -- sealed, signs beside the new one until previous_until
    previous_until       timestamptz,
    created_at           timestamptz not null,
    updated_at           timestamptz not null
);
create index webhook_endpoints_partner on ops.webhook_endpoints (partner_id, created_at);

create table ops.webhook_messages (
    id               text        primary key,          -- the webhook-id: msg_ + base32 of SHA-256(event id, endpoint id)
    endpoint_id      text        not null references ops.webhook_endpoints (id) on delete cascade,
    partner_id       text        not null,
    event_id         uuid,                              -- null for webhook.test
    type             text        not null,
    ordering_key     text,                              -- the order id: one order's messages go out in revision order
    sequence         bigint      not null default 0,    -- the order's stream revision
    body             text        not null,              -- exactly the bytes signed and sent
    created_at       timestamptz not null,              -- the event's time (the payload's timestamp)
    status           text        not null,              -- pending | delivered | failed
    attempts         int         not null default 0,    -- attempts in the current round
    next_attempt_at  timestamptz,                       -- pending: when it is due (a claim moves it past the timeout)
    seq              bigserial   not null               -- insertion order: the delivery log's cursor
);
create index webhook_messages_due on ops.webhook_messages (next_attempt_at) where status = 'pending';
create index webhook_messages_endpoint on ops.webhook_messages (endpoint_id, seq);
create index webhook_messages_order on ops.webhook_messages (endpoint_id, ordering_key, sequence) where status = 'pending';

create table ops.webhook_attempts (
    id           bigserial        primary key,
    message_id   text             not null references ops.webhook_messages (id) on delete cascade,
    at           timestamptz      not null,
    status       int,                                  -- HTTP status; null: no answer (timeout, refused target, connection error)
    error        text,
    latency_ms   double precision not null,
    response     text                                  -- the first 1 KB of the answer
);
create index webhook_attempts_message on ops.webhook_attempts (message_id, id);
