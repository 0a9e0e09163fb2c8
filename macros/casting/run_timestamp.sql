{#- When this dbt invocation started (UTC), as a timestamp: what a build stamps on the rows it
    writes. Microseconds, so that two builds never share one. -#}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
