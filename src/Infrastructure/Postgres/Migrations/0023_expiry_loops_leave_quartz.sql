-- The hold expiry and the reservation expiry no longer run as clustered Quartz jobs (issue 11): like the fulfilment
-- loops (0022) they are loops on the node that holds their advisory lock (Projections/Expiry/ExpiryLoops.cs). Their
-- triggers and job rows, stored by earlier versions, go, so that Quartz does not keep firing jobs whose classes are gone.
-- (A node of an earlier version started during a rolling upgrade declares them again and fires them alongside the loops
-- until it is upgraded, which is harmless: a release is a command to the aggregate, which releases an item once.)
delete from quartz.qrtz_fired_triggers where job_name in ('hold-expiry', 'reservation-expiry');
delete from quartz.qrtz_triggers where job_name in ('hold-expiry', 'reservation-expiry');
delete from quartz.qrtz_job_status where job_name in ('hold-expiry', 'reservation-expiry');
delete from quartz.qrtz_job_details where job_name in ('hold-expiry', 'reservation-expiry');
