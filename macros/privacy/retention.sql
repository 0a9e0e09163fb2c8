{#- Retention: event data older than var('event_retention_days') is deleted from raw before
    the base model that reads it builds (a pre-hook on every base model; it acts only for the
    sources in var('event_retention_sources')). An event's age is its event time, or its load
    time when the event time is unreadable or implausible (a row quarantined for it). On an
    incremental build the base model's typed event time serves for the batches it has seen, so
    only new batches are parsed. Each purge that deletes rows adds a line to privacy.retention_log, which source_reconciliation adds back: raw rows +
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
    {%- set expired_raw = _is_expired(parse_timestamp_utc(ns.spec.observed_at), cutoff) -%}
    {%- if is_incremental() -%}
        {#- the base model already holds the typed event time of every row of the batches it
            has seen: only the rows of new batches are parsed here, named as constants so the
            engine filters on them before it parses -#}
        {%- set new_batches = tianwen.batches_not_built(raw) -%}
        {%- set expired_rows -%}
            select _batch_id, _file_name, _row_number from {{ this }}
            where {{ _is_expired(ns.spec.observed_at, cutoff) }}
            {%- if new_batches %}
            union all
            select _batch_id, _file_name, _row_number from {{ raw }}
            where _batch_id in ({{ tianwen.sql_literal_list(new_batches) }})
                and {{ expired_raw }}
            {%- endif %}
        {%- endset -%}
        {%- if run_query("select count(*) from (" ~ expired_rows ~ ") as e").columns[0].values()[0] | int == 0 -%}
            {{ return('') }}
        {%- endif -%}
        {%- set expired -%}
            exists (
                select 1 from ({{ expired_rows }}) as e
                where e._batch_id = {{ raw.identifier }}._batch_id
                    and e._file_name = {{ raw.identifier }}._file_name
                    and e._row_number = {{ raw.identifier }}._row_number
            )
        {%- endset -%}
    {%- else -%}
        {%- set expired = expired_raw -%}
    {%- endif -%}
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


{#- An event older than the cutoff: by its time, or by its load time when that is null or
    before var('min_plausible_timestamp'). -#}
{% macro _is_expired(event_at, cutoff) -%}
    coalesce(
        case when {{ event_at }} >= cast('{{ var("min_plausible_timestamp") }}' as {{ dbt.type_timestamp() }})
            then {{ event_at }} end,
        _loaded_at
    ) < cast('{{ cutoff }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#- The landing source (name, entry of var tianwen_sources) whose base model is being built,
    or (none, none): what the raw-purging pre-hooks (retention, erasure) act on. -#}
{% macro base_model_source() -%}
    {%- for source_name, spec in var('tianwen_sources').items() if spec.base == this.identifier -%}
        {{ return((source_name, spec)) }}
    {%- endfor -%}
    {{ return((none, none)) }}
{%- endmacro %}
