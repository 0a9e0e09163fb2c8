{#- Folder schemas (staging, intermediate, marts, seeds) are used as named, not prefixed
    with the target schema, so BI tools and reverse-ETL jobs find stable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
