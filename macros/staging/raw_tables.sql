{#- on-run-start: the raw tables dbt reads as sources. The loader creates them on DuckDB and
    PostgreSQL. On Spark it writes each raw table as a folder of Parquet files
    (orchestration/ingest/warehouse.py, SparkWarehouse) under CDP_SPARK_RAW_DIR, and this
    hook declares those folders as tables; a folder's schema comes from its files. -#}
{% macro create_raw_tables() -%}
    {{ return(adapter.dispatch('create_raw_tables', 'tianwen')()) }}
{%- endmacro %}

{% macro default__create_raw_tables() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__create_raw_tables() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set location = env_var('CDP_SPARK_RAW_DIR', '') -%}
    {%- if not (location.startswith('/') or '://' in location) -%}
        {{ exceptions.raise_compiler_error("CDP_SPARK_RAW_DIR must be an absolute path or a URI (a relative "
            "location is read inside Spark's warehouse folder): `tianwen build` sets it from CDP_SPARK_DIR") }}
    {%- endif -%}
    {%- do run_query('create schema if not exists raw') -%}
    {%- set tables = graph.sources.values() | selectattr('schema', 'equalto', 'raw')
                     | map(attribute='identifier') | unique | sort -%}
    {%- for table in tables -%}
        {%- do run_query('create table if not exists raw.' ~ table ~ " using parquet location "
                         ~ tianwen.sql_literal(location ~ '/' ~ table)) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
