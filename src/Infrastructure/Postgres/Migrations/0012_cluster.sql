-- Cluster coordination (issue 17).
--
-- 1. Quartz.NET 4.7.3's clustered ADO job store (PostgreSQL delegate), in schema "quartz" with the table prefix
--    "quartz.qrtz_": the schema Quartz 4.7.3 itself creates (its embedded create_postgres.sql, the generated form of
--    database/tables/tables_postgres.sql for that release; Quartz validates it at start). Every API node shares these
--    rows: a trigger is acquired under the row lock in quartz.qrtz_locks, so each firing runs on one node; each node
--    checks in to quartz.qrtz_scheduler_state and a node that stops checking in has its firings recovered by another.
create schema if not exists quartz;

create table quartz.qrtz_job_details (
  sched_name text not null,
  job_name text not null,
  job_group text not null,
  description text null,
  job_class_name text not null,
  is_durable bool not null,
  is_nonconcurrent bool not null,
  is_update_data bool not null,
  requests_recovery bool not null,
  job_data bytea null,
  primary key (sched_name,job_name,job_group)
);
create table quartz.qrtz_triggers (
  sched_name text not null,
  trigger_name text not null,
  trigger_group text not null,
  job_name text not null,
  job_group text not null,
  description text null,
  next_fire_time bigint null,
  prev_fire_time bigint null,
  priority integer null,
  trigger_state text not null,
  trigger_type text not null,
  start_time bigint not null,
  end_time bigint null,
  calendar_name text null,
  misfire_instr smallint null,
  misfire_orig_fire_time bigint null,
  execution_group varchar(200) null,
  preferred_node varchar(200) null,
  preferred_node_auto bool not null default false,
  retry_policy varchar(250) null,
  retry_attempt integer null,
  continues_trigger_name text null,
  continues_trigger_group text null,
  continuation_condition integer null,
  overlap_policy integer null,
  pause_reason varchar(250) null,
  paused_by varchar(200) null,
  paused_at bigint null,
  misfire_threshold bigint null,
  fixed_delay bool null,
  job_data bytea null,
  primary key (sched_name,trigger_name,trigger_group),
  foreign key (sched_name,job_name,job_group) references quartz.qrtz_job_details (sched_name,job_name,job_group)
);
create table quartz.qrtz_simple_triggers (
  sched_name text not null,
  trigger_name text not null,
  trigger_group text not null,
  repeat_count bigint not null,
  repeat_interval bigint not null,
  times_triggered bigint not null,
  primary key (sched_name,trigger_name,trigger_group),
  foreign key (sched_name,trigger_name,trigger_group) references quartz.qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
);
create table quartz.qrtz_cron_triggers (
  sched_name text not null,
  trigger_name text not null,
  trigger_group text not null,
  cron_expression text not null,
  time_zone_id text,
  primary key (sched_name,trigger_name,trigger_group),
  foreign key (sched_name,trigger_name,trigger_group) references quartz.qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
);
create table quartz.qrtz_simprop_triggers (
  sched_name text not null,
  trigger_name text not null,
  trigger_group text not null,
  str_prop_1 text null,
  str_prop_2 text null,
  str_prop_3 text null,
  int_prop_1 integer null,
  int_prop_2 integer null,
  long_prop_1 bigint null,
  long_prop_2 bigint null,
  dec_prop_1 numeric null,
  dec_prop_2 numeric null,
  bool_prop_1 bool null,
  bool_prop_2 bool null,
  time_zone_id text null,
  primary key (sched_name,trigger_name,trigger_group),
  foreign key (sched_name,trigger_name,trigger_group) references quartz.qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
);
create table quartz.qrtz_blob_triggers (
  sched_name text not null,
  trigger_name text not null,
  trigger_group text not null,
  blob_data bytea null,
  primary key (sched_name,trigger_name,trigger_group),
  foreign key (sched_name,trigger_name,trigger_group) references quartz.qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
);
create table quartz.qrtz_calendars (
  sched_name text not null,
  calendar_name text not null,
  calendar bytea not null,
  primary key (sched_name,calendar_name)
);
create table quartz.qrtz_paused_trigger_grps (
  sched_name text not null,
  trigger_group text not null,
  pause_reason varchar(250) null,
  paused_by varchar(200) null,
  paused_at bigint null,
  primary key (sched_name,trigger_group)
);
create table quartz.qrtz_paused_job_grps (
  sched_name text not null,
  job_group text not null,
  pause_reason varchar(250) null,
  paused_by varchar(200) null,
  paused_at bigint null,
  primary key (sched_name,job_group)
);
create table quartz.qrtz_fired_triggers (
  sched_name text not null,
  entry_id text not null,
  trigger_name text not null,
  trigger_group text not null,
  instance_name text not null,
  fired_time bigint not null,
  sched_time bigint not null,
  priority integer not null,
  state text not null,
  job_name text null,
  job_group text null,
  is_nonconcurrent bool not null,
  requests_recovery bool null,
  execution_group varchar(200) null,
  progress integer null,
  progress_message varchar(250) null,
  interrupt_requested_time bigint null,
  primary key (sched_name,entry_id)
);
create table quartz.qrtz_scheduler_state (
  sched_name text not null,
  instance_name text not null,
  last_checkin_time bigint not null,
  checkin_interval bigint not null,
  quartz_version varchar(20) null,
  primary key (sched_name,instance_name)
);
create table quartz.qrtz_locks (
  sched_name text not null,
  lock_name text not null,
  primary key (sched_name,lock_name)
);
create table quartz.qrtz_execution_history (
  sched_name text not null,
  entry_id text not null,
  instance_name text not null,
  job_name text not null,
  job_group text not null,
  trigger_name text not null,
  trigger_group text not null,
  fired_time bigint not null,
  run_time bigint not null,
  succeeded bool not null,
  error_message text null,
  retry_attempt integer not null default 0,
  retry_scheduled bool not null default false,
  execution_log text null,
  result integer null,
  summary text null,
  metrics text null,
  manual bool null,
  fire_instance_id text null,
  job_input text null,
  job_input_too_large bool null,
  primary key (sched_name,entry_id)
);
create table quartz.qrtz_misfire_history (
  sched_name text not null,
  entry_id text not null,
  instance_name text not null,
  trigger_name text not null,
  trigger_group text not null,
  job_name text null,
  job_group text null,
  misfire_time bigint not null,
  sched_time bigint null,
  reason integer null,
  primary key (sched_name,entry_id)
);
create table quartz.qrtz_job_status (
  sched_name text not null,
  job_group text not null,
  job_name text not null,
  first_fired_time bigint not null,
  last_fired_time bigint not null,
  last_result integer not null,
  last_run_time bigint not null,
  last_instance_name text not null,
  last_entry_id text null,
  last_summary text null,
  last_success_time bigint null,
  last_failure_time bigint null,
  last_failure_message text null,
  consecutive_failures integer not null default 0,
  run_count bigint not null default 0,
  failure_count bigint not null default 0,
  primary key (sched_name,job_group,job_name)
);
create index idx_qrtz_j_g_n on quartz.qrtz_job_details (sched_name, job_group, job_name);
create index idx_qrtz_t_j on quartz.qrtz_triggers (sched_name, job_name, job_group);
create index idx_qrtz_t_g_n on quartz.qrtz_triggers (sched_name, trigger_group, trigger_name);
create index idx_qrtz_t_c on quartz.qrtz_triggers (sched_name, calendar_name);
create index idx_qrtz_t_nft_st on quartz.qrtz_triggers (sched_name, trigger_state, next_fire_time asc, priority desc, misfire_instr);
create index idx_qrtz_ft_inst_job_req_rcvry on quartz.qrtz_fired_triggers (sched_name, instance_name, requests_recovery);
create index idx_qrtz_ft_j_g on quartz.qrtz_fired_triggers (sched_name, job_name, job_group);
create index idx_qrtz_ft_t_g on quartz.qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
create index idx_qrtz_eh_fired_time on quartz.qrtz_execution_history (sched_name, fired_time);
create index idx_qrtz_eh_inst on quartz.qrtz_execution_history (sched_name, instance_name);
create index idx_qrtz_mh_misfire_time on quartz.qrtz_misfire_history (sched_name, misfire_time);
create index idx_qrtz_mh_inst on quartz.qrtz_misfire_history (sched_name, instance_name);
create index idx_qrtz_eh_job_time on quartz.qrtz_execution_history (sched_name, job_group, job_name, fired_time);
create index idx_qrtz_eh_fire_inst on quartz.qrtz_execution_history (sched_name, fire_instance_id);
create index idx_qrtz_eh_trig_time on quartz.qrtz_execution_history (sched_name, trigger_group, trigger_name, fired_time);

-- 2. One rate budget per vendor for all nodes (VendorRateGate, docs/reliability.md): a continuous token bucket in one row,
--    refilled from the database server's clock (one clock for every node). ops.take_vendor_token is one short statement
--    (its own transaction, never open across a vendor call): it takes a token and answers 0, or answers how many
--    milliseconds until one is there (or until a 429 pause set by any node ends).
create table ops.vendor_rate_buckets (
    vendor text primary key,
    tokens double precision not null,
    refilled_at timestamptz not null,
    paused_until timestamptz not null default '-infinity'
);

create function ops.take_vendor_token(p_vendor text, p_rate double precision, p_burst integer) returns double precision
language plpgsql as $$
declare
    v_tokens double precision;
    v_refilled timestamptz;
    v_paused timestamptz;
    v_now timestamptz;
    v_wait double precision := 0;
begin
    insert into ops.vendor_rate_buckets (vendor, tokens, refilled_at) values (p_vendor, p_burst, clock_timestamp())
        on conflict (vendor) do nothing;
    -- The row lock first, the clock after: a caller that waited for the lock must not refill from a time before the
    -- previous holder's.
    select tokens, refilled_at, paused_until into v_tokens, v_refilled, v_paused
      from ops.vendor_rate_buckets where vendor = p_vendor for update;
    v_now := greatest(clock_timestamp(), v_refilled);
    v_tokens := least(p_burst, v_tokens + extract(epoch from v_now - v_refilled) * p_rate);
    if v_paused > v_now then
        v_wait := extract(epoch from v_paused - v_now) * 1000;
    elsif v_tokens >= 1 then
        v_tokens := v_tokens - 1;
    else
        v_wait := ceil((1 - v_tokens) / p_rate * 1000);
    end if;
    update ops.vendor_rate_buckets set tokens = v_tokens, refilled_at = v_now where vendor = p_vendor;
    return greatest(v_wait, 0);
end $$;

-- A 429 from the vendor closes the door for every node until its Retry-After (a later pause already set wins).
create function ops.pause_vendor(p_vendor text, p_milliseconds double precision) returns void
language sql as $$
    update ops.vendor_rate_buckets set paused_until = greatest(paused_until, clock_timestamp() + p_milliseconds * interval '1 millisecond')
     where vendor = p_vendor;
$$;
