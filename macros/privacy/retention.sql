{#- Retention: event data older than var('event_retention_days') is deleted from raw before
    the base model that reads it builds (a pre-hook on every base model; it acts only for the
    sources in var('event_retention_sources')). An event's age is its event time, or its load
    time when the event time is unreadable or implausible (a row quarantined for it). Each purge that deletes rows
    adds a line to privacy.retention_log, which source_reconciliation adds back: raw rows +
    purged rows = rows the loader wrote. -#}
{% macro create_retention_log() -%}
create schema if not exists privacy;
create table if not exists privacy.retention_log (
    source_name varchar(64) not null,
    retention_days integer not null,
    cutoff_at timestamp not null,
    purged_rows bigint not null,
    purged_at timestamp not null
)
{%- endmacro %}


{% macro purge_expired_events() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set ns = namespace(name=none, spec=none) -%}
    {%- set ns.name, ns.spec = base_model_source() -%}
    {%- if ns.name is none or ns.name not in var('event_retention_sources') -%}{{ return('') }}{%- endif -%}
    {%- set days = var('event_retention_days') | int -%}
    {%- if days < 1 -%}
        {{ exceptions.raise_compiler_error("event_retention_days must be a whole number of days, at least 1: set CDP_EVENT_RETENTION_DAYS") }}
    {%- endif -%}
    {%- set raw = source(ns.spec.source[0], ns.spec.source[1]) -%}
    {%- set cutoff = (run_started_at - modules.datetime.timedelta(days=days)).strftime('%Y-%m-%d %H:%M:%S') -%}
    {#- an implausible event time (a placeholder such as 1900-01-01) is a quarantine reason,
        not an age: such a row ages by its load time, like an unreadable one -#}
    {%- set event_at = parse_timestamp_utc(ns.spec.observed_at) -%}
    {%- set expired -%}
        coalesce(
            case when {{ event_at }} >= cast('{{ var("min_plausible_timestamp") }}' as {{ dbt.type_timestamp() }})
                then {{ event_at }} end,
            _loaded_at
        ) < cast('{{ cutoff }}' as {{ dbt.type_timestamp() }})
    {%- endset %}
    {#- one scan in the usual case (nothing expired since the last build): count first -#}
    {%- set purged = run_query("select count(*) from " ~ raw ~ " where " ~ expired).columns[0].values()[0] | int -%}
    {%- if purged == 0 -%}{{ return('') }}{%- endif %}
insert into privacy.retention_log (source_name, retention_days, cutoff_at, purged_rows, purged_at)
values (
    '{{ ns.name }}',
    {{ days }},
    cast('{{ cutoff }}' as {{ dbt.type_timestamp() }}),
    {{ purged }},
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
);
delete from {{ raw }} where {{ expired }}
{%- endmacro %}


{#- The landing source (name, entry of var tianwen_sources) whose base model is being built,
    or (none, none): what the raw-purging pre-hooks (retention, erasure) act on. -#}
{% macro base_model_source() -%}
    {%- for source_name, spec in var('tianwen_sources').items() if spec.base == this.identifier -%}
        {{ return((source_name, spec)) }}
    {%- endfor -%}
    {{ return((none, none)) }}
{%- endmacro %}
