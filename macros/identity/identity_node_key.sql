{#- The key of an identifier in the identity graph: '<type>:<value>'. -#}
{% macro identity_node_key(identifier_type, identifier_value) -%}
    {{ dbt.concat([identifier_type, "':'", identifier_value]) }}
{%- endmacro %}
