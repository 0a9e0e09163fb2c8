{#- Post-hook of every model: table statistics for the models after it. PostgreSQL plans a
    query from the statistics of its tables, which a table a build has just written does not
    have yet (autovacuum samples it later): a join planned on guessed sizes can pick a nested
    loop over thousands of rows on each side. ANALYZE samples the new table (milliseconds).
    DuckDB and Spark keep their statistics as they write. -#}
{% macro analyze_built_table() -%}
    {{ return(adapter.dispatch('analyze_built_table', 'tianwen')()) }}
{%- endmacro %}

{% macro default__analyze_built_table() -%}
{%- endmacro %}

{% macro postgres__analyze_built_table() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
