{#- Rounded division that gives the same digits on every engine: DuckDB divides decimals
    in double precision, PostgreSQL in exact numeric, so a half-way value (50.135) can
    round apart. The integers go through integer_divide instead, rounding half up, and
    the result is scaled back: numerator / denominator rounded to `places`. Both
    arguments must be non-negative integers (cents, days, counts). -#}
{% macro divide_rounded(numerator, denominator, places=2) -%}
    {%- set scale = 10 ** places -%}
    cast(
        cast(
            {{ tianwen.integer_divide(
                '2 * ' ~ scale ~ ' * cast(' ~ numerator ~ ' as bigint) + cast(' ~ denominator ~ ' as bigint)',
                '2 * cast(' ~ denominator ~ ' as bigint)') }}
            as numeric(28, 0)
        ) / {{ scale }}
        as numeric(18, {{ places }})
    )
{%- endmacro %}
