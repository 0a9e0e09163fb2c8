{#- A text literal: the value between single quotes, quotes inside doubled. -#}
{% macro sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}


{#- Values as text literals separated by commas (`'a', 'b'`), for an `in (...)` list. -#}
{% macro sql_literal_list(values) -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(tianwen.sql_literal(value)) -%}
    {%- endfor -%}
    {{ return(literals | join(', ')) }}
{%- endmacro %}
