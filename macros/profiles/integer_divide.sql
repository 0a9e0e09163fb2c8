{#- Integer division, rounding down, on every engine: `/` on two integers is exact
    division on DuckDB (7 / 2 = 3.5) and truncating on PostgreSQL (3). For non-negative
    arguments. -#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide', 'tianwen')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    div(cast({{ numerator }} as bigint), cast({{ denominator }} as bigint))
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    (cast({{ numerator }} as bigint) // cast({{ denominator }} as bigint))
{%- endmacro %}
