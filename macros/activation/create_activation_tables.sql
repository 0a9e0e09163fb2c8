{#- on-run-start hook: the tables the activation syncs (orchestration/activation) write and
    dbt reads as the `activation` source. Created empty here so the marts over them build
    before the first sync; orchestration/activation/state.py runs this same file (the body
    between the macro tags) when a sync finds them missing. Plain SQL only: no Jinja inside. -#}
{% macro create_activation_tables() -%}
create schema if not exists activation;
create table if not exists activation.sync_state (
    sync_id varchar(200) not null,
    record_key varchar(200) not null,
    row_hash varchar(64) not null,
    payload text,
    acknowledged_at timestamp not null,
    primary key (sync_id, record_key)
);
create table if not exists activation.sync_runs (
    run_id varchar(64) not null primary key,
    sync_id varchar(200) not null,
    destination_type varchar(64),
    started_at timestamp not null,
    finished_at timestamp,
    status varchar(32) not null,
    is_dry_run boolean not null,
    is_full_resync boolean not null,
    audience_rows integer,
    suppressed_rows integer,
    held_out_rows integer,
    rows_added integer,
    rows_removed integer,
    rows_changed integer,
    rows_rejected integer,
    batches integer,
    message text
);
create table if not exists activation.sync_batches (
    run_id varchar(64) not null,
    sync_id varchar(200) not null,
    batch_number integer not null,
    idempotency_key varchar(64) not null,
    operations integer not null,
    acknowledged integer not null,
    rejected integer not null,
    attempts integer not null,
    acknowledged_at timestamp not null,
    primary key (run_id, batch_number)
);
create table if not exists activation.sync_rejections (
    run_id varchar(64) not null,
    sync_id varchar(200) not null,
    record_key varchar(200) not null,
    operation varchar(16) not null,
    message text,
    rejected_at timestamp not null
);
create table if not exists activation.campaign_assignments (
    campaign_id varchar(200) not null,
    customer_id varchar(200) not null,
    assignment_group varchar(16) not null,
    assigned_at timestamp not null,
    primary key (campaign_id, customer_id)
)
{%- endmacro %}
