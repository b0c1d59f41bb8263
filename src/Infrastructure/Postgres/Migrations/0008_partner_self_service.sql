-- Partner self-service (issue 15).
create schema if not exists steller;
create schema if not exists read;

-- When each API key last signed an accepted request. Written coalesced (one upsert every few seconds per node, never one
-- write per request); the time only moves forward.
create table steller.api_key_usage (
    key_id       text        primary key,
    partner_id   text        not null,
    last_used_at timestamptz not null
);
create index api_key_usage_partner on steller.api_key_usage (partner_id);

-- Partners' own key commands (POST /v1/api-keys, .../revoke) are audited beside admin commands: actor partner:<id>,
-- role partner, no admin token but the API key that signed the request.
alter table steller.admin_audit alter column token_id drop not null;
alter table steller.admin_audit add column api_key_id text;
create or replace view read.admin_audit as
    select id, at, actor, role, method, route, path, target, status, correlation_id, api_key_id from steller.admin_audit;

-- Each partner's own request log (GET /v1/requests): written in batches off the request path, kept
-- Retention:PartnerRequestsDays (30). Never a body, a signature, a secret or a query string.
create table steller.partner_requests (
    id             bigserial   primary key,
    at             timestamptz not null,
    partner_id     text        not null,
    key_id         text        not null,
    method         text        not null,
    route          text        not null,              -- the route template, e.g. /v1/orders/{orderId}
    status         int         not null,
    problem_code   text,                              -- the problem's code when the answer was one
    latency_ms     double precision not null,
    correlation_id text        not null,
    client_ip      text        not null
);
create index partner_requests_partner on steller.partner_requests (partner_id, id);
create index partner_requests_at on steller.partner_requests (at);
