-- Webhook endpoint health (docs/webhooks.md): failing_since is the time of the first failed attempt since the endpoint's last
-- success (null while its last attempt succeeded); an endpoint failing for Webhooks:DisableAfterFailingDays is disabled with
-- disabled_reason = 'failing' (an operational alert is raised while it stays so). Enabling it again clears both.
alter table ops.webhook_endpoints add column failing_since timestamptz;
alter table ops.webhook_endpoints add column disabled_reason text;
create index webhook_endpoints_failing on ops.webhook_endpoints (failing_since) where failing_since is not null;
create index webhook_messages_failed on ops.webhook_messages (endpoint_id) where status = 'failed';
