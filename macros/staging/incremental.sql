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


{#- Incremental record models (docs/architecture.md, "Incremental record models"): tables of
    rows derived from records, keyed by (source_name, record_key), each row stamped with the
    build that wrote it (built_at, run_timestamp). An incremental build deletes the rows of
    every record that changed or left its inputs since the newest stamp it holds, then
    appends the rows of those records read again. Three macros, composed by each model:

    records_since(fingerprint): the newest stamp the table holds (SQL), which input rows
    newer than are changes; none to read everything (a full build, an empty table, or rows
    derived under other rules: a fingerprint other than the rules_fingerprint column's, in
    which case every row is deleted first).
    forget_records_not_in(kept_sql, key_columns): deletes the rows of records not in kept_sql
    (a query of the key columns, by default source_name and record_key): the records still
    there, unchanged.
    forget_records_in(changed_sql, key_columns): deletes the rows of the records in changed_sql.

    They run while the model compiles in `dbt run` or `dbt build`, like the components
    model. A build that fails after them leaves the deleted records' inputs newer than the
    table, so the next build reads them again. -#}
{% macro records_since(fingerprint=none) %}
    {%- if not execute or this is none or not is_incremental() or flags.WHICH not in ('run', 'build') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if 'built_at' not in columns -%}
        {{ exceptions.raise_compiler_error(
            this ~ " was built before it read only changed records (it has no built_at column). Rebuild it"
            ~ " and what reads it: dbt build --full-refresh --select " ~ model.name ~ "+") }}
    {%- endif -%}
    {%- set stale = "0" if fingerprint is none else
        "count(case when rules_fingerprint <> " ~ tianwen.sql_literal(fingerprint) ~ " then 1 end)" -%}
    {%- set state = run_query("select max(built_at), " ~ stale ~ " from " ~ this) -%}
    {%- set newest = state.columns[0].values()[0] -%}
    {%- if newest is none or state.columns[1].values()[0] > 0 -%}
        {%- do run_query("delete from " ~ this) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ newest ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}

{% macro forget_records_not_in(kept_sql, key_columns=['source_name', 'record_key']) %}
    {%- do run_query("delete from " ~ this ~ " where not exists (select 1 from (" ~ kept_sql ~ ") as kept where "
                     ~ tianwen.records_match('kept', key_columns) ~ ")") -%}
{% endmacro %}

{% macro forget_records_in(changed_sql, key_columns=['source_name', 'record_key']) %}
    {%- do run_query("delete from " ~ this ~ " where exists (select 1 from (" ~ changed_sql ~ ") as changed where "
                     ~ tianwen.records_match('changed', key_columns) ~ ")") -%}
{% endmacro %}

{#- `alias`'s key columns equal this table's; the table's bare name qualifies its columns,
    which PostgreSQL and DuckDB both accept in a delete. -#}
{% macro records_match(alias, key_columns) -%}
    {%- set conditions = [] -%}
    {%- for column in key_columns -%}
        {%- do conditions.append(alias ~ "." ~ column ~ " = " ~ this.identifier ~ "." ~ column) -%}
    {%- endfor -%}
    {{ return(conditions | join(' and ')) }}
{%- endmacro %}

{#- A fingerprint of the rules a record model derives its rows with: every row of the given
    seeds (relations) and any other settings (a value turned to JSON). none when a seed
    cannot be read now: at parse time, before `dbt seed`, and in unit tests. -#}
{% macro rules_fingerprint(seeds, settings=none) %}
    {%- set rows = [] -%}
    {%- for seed in seeds -%}
        {%- if readable_seed(seed) is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set table = run_query("select * from " ~ seed) -%}
        {%- do rows.append(table.rows | map('list') | map('string') | sort) -%}
    {%- endfor -%}
    {{ return(local_md5(tojson([rows, settings]))) }}
{% endmacro %}

{#- A post-hook of an incremental model that compares an input table with what it was at
    the model's last build: the copy of `relation`'s `columns` kept beside the model (<model>
    <suffix>), replaced after each build. Not on Spark, whose incremental models are whole
    tables that never read it. -#}
{% macro keep_input_copy(relation, suffix, columns) %}
    {%- if target.type == 'spark' -%}{{ return('') }}{%- endif -%}
    {%- set copy = work_relation(this, suffix) -%}
drop table if exists {{ copy }};
create table {{ copy }} as select {{ columns | join(', ') }} from {{ relation }}
{%- endmacro %}
