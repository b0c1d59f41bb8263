-- The fulfilment poller and the pending-order timeout no longer run as clustered Quartz jobs (issue 11): they are loops
-- on the node that holds their advisory lock (Projections/Engine/LeaderLoop.cs). Their triggers and job rows, stored by
-- earlier versions, go, so that Quartz does not keep firing jobs whose classes are gone. (A node of an earlier version
-- started during a rolling upgrade declares them again; it fires them alongside the loop until it is upgraded, which is
-- harmless: both passes are idempotent.) The trigger subtables (simple, cron, ...) follow their trigger by cascade.
delete from quartz.qrtz_fired_triggers where job_name in ('fulfilment-poller', 'pending-order-timeout');
delete from quartz.qrtz_triggers where job_name in ('fulfilment-poller', 'pending-order-timeout');
delete from quartz.qrtz_job_status where job_name in ('fulfilment-poller', 'pending-order-timeout');
delete from quartz.qrtz_job_details where job_name in ('fulfilment-poller', 'pending-order-timeout');
