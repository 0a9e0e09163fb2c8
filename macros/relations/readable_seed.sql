{#- The seed's table when it can be read now; none at parse time, before `dbt seed`, and in
    dbt unit tests (where the seed is the test's rows, a CTE). -#}
{% macro readable_seed(seed) %}
    {%- if not execute or '__dbt__cte__' in (seed | string) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(seed.database, seed.schema, seed.identifier)) }}
{% endmacro %}
