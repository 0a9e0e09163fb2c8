{#- A text literal: the value between single quotes, quotes inside doubled. -#}
{% macro sql_literal(value) -%}
    {{ return(adapter.dispatch('sql_literal', 'tianwen')(value)) }}
{%- endmacro %}

{% macro default__sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- Spark reads backslash escapes in literals, and two adjacent literals as one ('a''b' is
    'ab'): backslashes and quotes are escaped with a backslash. -#}
{% macro spark__sql_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{#- Values as text literals separated by commas (`'a', 'b'`), for an `in (...)` list. -#}
{% macro sql_literal_list(values) -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(tianwen.sql_literal(value)) -%}
    {%- endfor -%}
    {{ return(literals | join(', ')) }}
{%- endmacro %}
