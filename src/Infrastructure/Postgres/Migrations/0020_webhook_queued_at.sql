-- When the log follower turned an event into a message (or a resend/replay put it back to pending): with created_at (the
-- event's time) and the attempts' times it splits a delivery's lag into its stages (docs/webhooks.md, "Delivery lag").
alter table ops.webhook_messages add column queued_at timestamptz;
