-- Admin API: bearer tokens (only a SHA-256 of each token is kept) and the audit of every admin command.
create schema if not exists steller;
create schema if not exists read;

create table steller.admin_tokens (
    id          uuid        primary key,
    name        text        not null,                 -- who holds it: the actor in the audit
    role        text        not null check (role in ('admin', 'finance', 'support', 'analyst')),
    token_hash  bytea       not null unique,          -- sha256(token)
    created_at  timestamptz not null,
    revoked_at  timestamptz,
    last_used_at timestamptz
);
-- A name identifies one live token, so `steller admin token revoke NAME` is unambiguous.
create unique index admin_tokens_live_name on steller.admin_tokens (name) where revoked_at is null;

-- Every admin command (non-GET request by an authenticated admin): who, what, on what, how it ended. Never bodies.
create table steller.admin_audit (
    id             bigserial   primary key,
    at             timestamptz not null,
    actor          text        not null,              -- the token's name
    token_id       uuid        not null,
    role           text        not null,
    method         text        not null,
    route          text        not null,              -- the route template, e.g. /admin/ledger/audit
    path           text        not null,              -- the path requested (no query string)
    target         text,                              -- route values, e.g. partnerId=p42
    status         int         not null,
    correlation_id text        not null
);
create index admin_audit_actor_at on steller.admin_audit (actor, at);
create index admin_audit_at on steller.admin_audit (at);

-- Analysts query schema "read".
create view read.admin_audit as
    select id, at, actor, role, method, route, path, target, status, correlation_id from steller.admin_audit;
