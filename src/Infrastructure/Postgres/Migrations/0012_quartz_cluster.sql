-- Quartz.NET 4.7.3's clustered ADO job store (PostgreSQL delegate), in its own schema: the tables of Quartz's
-- database/tables/tables_postgres.sql with the table prefix "quartz.qrtz_" (Jobs:* settings, docs/reliability.md).
-- Every API node shares these rows: a trigger is acquired under the row lock in quartz.qrtz_locks, so it fires on one
-- node; each node checks in to quartz.qrtz_scheduler_state and a node that stops checking in has its firings recovered.
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
    primary key (sched_name, job_name, job_group)
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
    job_data bytea null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, job_name, job_group) references quartz.qrtz_job_details (sched_name, job_name, job_group)
);

create table quartz.qrtz_simple_triggers (
    sched_name text not null,
    trigger_name text not null,
    trigger_group text not null,
    repeat_count bigint not null,
    repeat_interval bigint not null,
    times_triggered bigint not null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group)
        on delete cascade
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
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group)
        on delete cascade
);

create table quartz.qrtz_cron_triggers (
    sched_name text not null,
    trigger_name text not null,
    trigger_group text not null,
    cron_expression text not null,
    time_zone_id text,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group)
        on delete cascade
);

create table quartz.qrtz_blob_triggers (
    sched_name text not null,
    trigger_name text not null,
    trigger_group text not null,
    blob_data bytea null,
    primary key (sched_name, trigger_name, trigger_group),
    foreign key (sched_name, trigger_name, trigger_group) references quartz.qrtz_triggers (sched_name, trigger_name, trigger_group)
        on delete cascade
);

create table quartz.qrtz_calendars (
    sched_name text not null,
    calendar_name text not null,
    calendar bytea not null,
    primary key (sched_name, calendar_name)
);

create table quartz.qrtz_paused_trigger_grps (
    sched_name text not null,
    trigger_group text not null,
    primary key (sched_name, trigger_group)
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
    primary key (sched_name, entry_id)
);

create table quartz.qrtz_scheduler_state (
    sched_name text not null,
    instance_name text not null,
    last_checkin_time bigint not null,
    checkin_interval bigint not null,
    primary key (sched_name, instance_name)
);

create table quartz.qrtz_locks (
    sched_name text not null,
    lock_name text not null,
    primary key (sched_name, lock_name)
);

create index idx_qrtz_j_req_recovery on quartz.qrtz_job_details (sched_name, requests_recovery);
create index idx_qrtz_j_g_n on quartz.qrtz_job_details (sched_name, job_group, job_name);
create index idx_qrtz_t_next_fire_time on quartz.qrtz_triggers (sched_name, next_fire_time);
create index idx_qrtz_t_state on quartz.qrtz_triggers (sched_name, trigger_state);
create index idx_qrtz_t_nft_st on quartz.qrtz_triggers (sched_name, trigger_state, next_fire_time);
create index idx_qrtz_t_g_n on quartz.qrtz_triggers (sched_name, trigger_group, trigger_name);
create index idx_qrtz_ft_trig_name on quartz.qrtz_fired_triggers (trigger_name);
create index idx_qrtz_ft_trig_group on quartz.qrtz_fired_triggers (trigger_group);
create index idx_qrtz_ft_trig_nm_gp on quartz.qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
create index idx_qrtz_ft_trig_inst_name on quartz.qrtz_fired_triggers (sched_name, instance_name);
create index idx_qrtz_ft_job_name on quartz.qrtz_fired_triggers (job_name);
create index idx_qrtz_ft_job_group on quartz.qrtz_fired_triggers (job_group);
create index idx_qrtz_ft_job_req_recovery on quartz.qrtz_fired_triggers (requests_recovery);
