{#- A random text key, drawn once when its row is inserted. -#}
{% macro random_key() %}
    {{ return(adapter.dispatch('random_key', 'tianwen')()) }}
{% endmacro %}

{% macro default__random_key() -%}
    cast(uuid() as {{ dbt.type_string() }})
{%- endmacro %}

{% macro postgres__random_key() -%}
    cast(gen_random_uuid() as {{ dbt.type_string() }})
{%- endmacro %}
