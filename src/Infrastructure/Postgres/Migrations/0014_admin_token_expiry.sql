-- Admin tokens may expire (issue 15: admins manage tokens over HTTP, with expiry dates). Null: never expires (tokens made
-- before this change, and CLI tokens created without --expires-in-days).
alter table steller.admin_tokens add column expires_at timestamptz;
