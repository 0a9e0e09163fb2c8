{#- The rules of the identifier_blocklist seed, read when a model runs, so that the
    regex and repeated_char rules become constant expressions in its SQL (a regular
    expression compiled once per query, not once per value and rule). Returns a list of
    {identifier_type, match_type, pattern, reason}, or none when the seed is not a table
    that can be read now: at parse time, before `dbt seed`, and in unit tests (where the
    seed is replaced by the test's rows). The caller then joins the seed row by row. -#}
{% macro identifier_blocklist_rules(blocklist) %}
    {%- set relation = readable_seed(blocklist) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set table = run_query(
        "select identifier_type, match_type, pattern, reason from " ~ relation
        ~ " where match_type in ('regex', 'repeated_char')"
        ~ " order by identifier_type, reason, match_type, pattern") -%}
    {%- set rules = [] -%}
    {%- for row in table.rows -%}
        {%- do rules.append({'identifier_type': row[0], 'match_type': row[1],
            'pattern': row[2], 'reason': row[3]}) -%}
    {%- endfor -%}
    {{ return(rules) }}
{% endmacro %}

{#- The smallest reason of the regex and repeated_char rules a value matches, or null:
    one CASE per identifier type whose branches are the type's rules in reason order, so
    the first match is the smallest reason, as min(reason) over the matching rules. -#}
{% macro blocklist_pattern_reason(rules, type_column, value_column) -%}
    {%- set types = rules | map(attribute='identifier_type') | unique | list -%}
    {%- if types | length == 0 -%}
    cast(null as {{ dbt.type_string() }})
    {%- else -%}
    case {{ type_column }}
        {%- for identifier_type in types %}
        when {{ tianwen.sql_literal(identifier_type) }} then case
            {%- for rule in rules if rule.identifier_type == identifier_type %}
            {%- if rule.match_type == 'regex' %}
            when {{ tianwen.regexp_like(value_column, tianwen.sql_literal(rule.pattern)) }}
            {%- else %}
            when replace({{ value_column }}, left({{ value_column }}, 1), '') = ''
            {%- endif %} then {{ tianwen.sql_literal(rule.reason) }}
            {%- endfor %}
        end
        {%- endfor %}
    end
    {%- endif -%}
{%- endmacro %}
