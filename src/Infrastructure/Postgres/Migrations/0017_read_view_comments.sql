-- What analysts read about the views in schema read that are not projections (issue 16): COMMENT ON each view and column,
-- shown by psql's \d+ and in docs/read-models.md. (Projections comment their own views when the engine points them.)
comment on view read.admin_audit is
    'Every admin command (non-GET request by an admin token) and every partner API-key command: who, what, on what, how it ended. Never bodies.';
comment on column read.admin_audit.id is 'Entry id, increasing.';
comment on column read.admin_audit.at is 'When the request arrived (UTC).';
comment on column read.admin_audit.actor is 'Who: the admin token''s name, or partner:{id} for a partner''s own key command.';
comment on column read.admin_audit.role is 'The token''s role: admin, finance, support or analyst; partner for a partner''s own command.';
comment on column read.admin_audit.method is 'HTTP method, e.g. POST.';
comment on column read.admin_audit.route is 'The route template, e.g. /admin/partners/{partnerId}/wallets.';
comment on column read.admin_audit.path is 'The path requested (no query string).';
comment on column read.admin_audit.target is 'The route values, e.g. partnerId=p42; null when the route has none.';
comment on column read.admin_audit.status is 'The HTTP status answered (500 when the request failed).';
comment on column read.admin_audit.correlation_id is 'The request''s correlation id (to find it in logs and in the events it wrote).';
comment on column read.admin_audit.api_key_id is 'The API key that signed a partner''s own command; null for admin tokens.';

comment on view read.vendor_health is
    'Per vendor over the last hour: calls, errors, rate limiting, latency percentiles; and its last complete catalog sync (any age).';
comment on column read.vendor_health.vendor is 'The vendor: giftcard or topup.';
comment on column read.vendor_health.calls is 'HTTP attempts at the vendor in the last hour.';
comment on column read.vendor_health.errors is 'Of those, attempts with no answer (timeout, connection error) or a 5xx answer.';
comment on column read.vendor_health.rate_limited is 'Of those, attempts the vendor answered 429 (too many requests).';
comment on column read.vendor_health.p50_ms is 'Median latency of the last hour''s attempts, milliseconds; null without calls.';
comment on column read.vendor_health.p95_ms is '95th percentile latency, milliseconds; null without calls.';
comment on column read.vendor_health.p99_ms is '99th percentile latency, milliseconds; null without calls.';
comment on column read.vendor_health.last_call_at is 'When the last attempt of the hour started (UTC); null without calls.';
comment on column read.vendor_health.last_catalog_sync_at is 'When the last complete catalog sync finished (UTC); null if never.';
comment on column read.vendor_health.last_catalog_products is 'Products the last complete catalog sync read; null if never.';
