{#- dbt's safe_cast is a plain cast on DuckDB and PostgreSQL: a bad value fails the whole
    model. Ours returns null instead, so the row can be quarantined with a reason. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro postgres__safe_cast(field, type) -%}
    {%- set base_type = type | lower | replace(' ', '_') -%}
    {%- set base_type = base_type.split('(')[0] -%}
    {%- if base_type in safe_cast_types() -%}
        cast({{ target.schema }}.tw_try_cast_{{ base_type }}(cast({{ field }} as text)) as {{ type }})
    {%- else -%}
        {#- other types (dbt's unit-test fixtures cast to text, varchar, ...): a plain cast -#}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}

{% macro safe_cast_types() -%}
    {{ return(['timestamp', 'date', 'numeric', 'integer', 'bigint', 'boolean']) }}
{%- endmacro %}

{#- Run on every invocation (on-run-start): creates the catching cast functions that
    postgres__safe_cast calls. Nothing to do on engines with a native try_cast. -#}
{% macro create_safe_cast_functions() -%}
    {{ return(adapter.dispatch('create_safe_cast_functions', 'tianwen')()) }}
{%- endmacro %}

{% macro default__create_safe_cast_functions() -%}
    select 1
{%- endmacro %}

{% macro postgres__create_safe_cast_functions() -%}
    create schema if not exists {{ target.schema }};
    {%- for base_type in safe_cast_types() %}
    create or replace function {{ target.schema }}.tw_try_cast_{{ base_type }}(value text)
    returns {{ base_type }} language plpgsql stable as $$
    begin
        return value::{{ base_type }};
    exception when others then
        return null;
    end
    $$;
    {%- endfor %}
{%- endmacro %}
