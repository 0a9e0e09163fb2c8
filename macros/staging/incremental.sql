{#- Base models are incremental (docs/architecture.md, "Incremental base models"). A build reads
    from raw only the rows of batches it has not seen, plus every raw row of a key those rows
    or a deletion touch, and re-types and re-ranks those keys (delete+insert on the key, the
    model's unique_key). A key's rows are always ranked together, so the result equals a full
    refresh; `--full-refresh` forces one.

    Raw loses rows only through retention and erasure (the pre-hooks before this one, and
    the erasure step). forget_rows_gone_from_raw takes those rows out of the base table and
    notes their keys in a work table (<model>__gone), so the model re-ranks what is left of
    those keys; a post-hook drops the work table. -#}

{#- The `source` CTE body of a base model: all of raw on a full build; incrementally, the
    rows of new batches and every row of a key they or a deletion touch. key_sql types the
    key from the raw columns, exactly as the model's key column does. -#}
{% macro changed_rows(relation, key_sql) -%}
    {#- a dbt unit test has no `this` unless it gives one: it tests the full build -#}
    {%- if this is not none and is_incremental() %}
    {%- set seen_batches = "select distinct _batch_id from " ~ this %}
    select * from {{ relation }}
    where _batch_id not in ({{ seen_batches }})
        or {{ key_sql }} in (
            select {{ key_sql }} from {{ relation }} where _batch_id not in ({{ seen_batches }})
            union all
            select key_value from {{ work_relation(this, '__gone') }}
        )
    {%- else %}
    select * from {{ relation }}
    {%- endif %}
{%- endmacro %}


{#- Pre-hook of every staging model, after retention and erasure; acts for an incremental
    build of a base model. A base row whose raw row (batch, file, row number) is gone is
    deleted, and its key noted for the model to re-rank. Counting first keeps the usual case
    (nothing deleted since the last build) to two counts. -#}
{% macro forget_rows_gone_from_raw() -%}
    {%- if not execute or not is_incremental() -%}{{ return('') }}{%- endif -%}
    {%- set ns = namespace(name=none, spec=none) -%}
    {%- set ns.name, ns.spec = base_model_source() -%}
    {%- if ns.name is none -%}{{ return('') }}{%- endif -%}
    {%- set raw = source(ns.spec.source[0], ns.spec.source[1]) -%}
    {%- set gone_table = work_relation(this, '__gone') -%}
    {#- a base row is gone when its raw row (batch, file, row number) is; the table's bare
        name qualifies its columns, which PostgreSQL and DuckDB both accept in a delete -#}
    {%- set gone -%}
        not exists (
            select 1 from {{ raw }} as r
            where r._batch_id = {{ this.identifier }}._batch_id
                and r._file_name = {{ this.identifier }}._file_name
                and r._row_number = {{ this.identifier }}._row_number
        )
    {%- endset -%}
    {%- set counts = run_query(
        "select (select count(*) from " ~ this ~ "), (select count(*) from " ~ raw
        ~ " where _batch_id in (select distinct _batch_id from " ~ this ~ "))") -%}
    {%- set nothing_gone = counts.columns[0].values()[0] == counts.columns[1].values()[0] %}
drop table if exists {{ gone_table }};
create table {{ gone_table }} as
select distinct {{ config.get('unique_key') }} as key_value from {{ this }}
where {{ 'false' if nothing_gone else gone }};
{%- if not nothing_gone %}
delete from {{ this }} where {{ gone }}
{%- endif %}
{%- endmacro %}


{#- Post-hook of every staging model: drops the work table of forget_rows_gone_from_raw
    (it holds keys, some of them identifiers). -#}
{% macro drop_gone_keys() -%}
    {%- if not execute or base_model_source()[0] is none -%}{{ return('') }}{%- endif -%}
drop table if exists {{ work_relation(this, '__gone') }}
{%- endmacro %}


{#- The batch ids of a raw table that the model being built (an existing incremental base
    table) has not seen yet: what the raw-purging pre-hooks check on an incremental build. -#}
{% macro batches_not_built(raw) -%}
    {{ return(run_query("select distinct _batch_id from " ~ raw ~ " except select distinct _batch_id from "
                        ~ this).columns[0].values()) }}
{%- endmacro %}
