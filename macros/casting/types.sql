{#- A double-precision float (dbt's type_float is a 4-byte float on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'tianwen')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- Whole days from one date to a later one: date minus date, an integer on DuckDB and
    PostgreSQL, an interval on Spark. -#}
{% macro days_between(earlier, later) -%}
    {{ return(adapter.dispatch('days_between', 'tianwen')(earlier, later)) }}
{%- endmacro %}

{% macro default__days_between(earlier, later) -%}
    ({{ later }} - {{ earlier }})
{%- endmacro %}

{% macro spark__days_between(earlier, later) -%}
    datediff({{ later }}, {{ earlier }})
{%- endmacro %}
