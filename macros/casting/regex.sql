{#- Regular expressions on every engine. Patterns are written once, in the dialect DuckDB
    (RE2) and PostgreSQL read alike: POSIX classes (`[[:space:]]`), `[.]` for a dot, no
    backslashes. Spark (Java) has no POSIX bracket classes and lets `$` match before a
    final newline, so its versions translate the pattern literal. -#}

{#- True when `value` matches `pattern` anywhere (anchor with ^ and $). `pattern` is a SQL
    expression: a quoted literal, or a column holding patterns. -#}
{% macro regexp_like(value, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'tianwen')(value, pattern)) }}
{%- endmacro %}

{% macro default__regexp_like(value, pattern) -%}
    ({{ value }} ~ {{ pattern }})
{%- endmacro %}

{% macro spark__regexp_like(value, pattern) -%}
    ({{ value }} rlike {{ tianwen.java_regex(pattern) }})
{%- endmacro %}

{#- `value` with every match of `pattern` (a quoted literal) replaced by `replacement`. -#}
{% macro regexp_replace_all(value, pattern, replacement="''") -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'tianwen')(value, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ tianwen.java_regex(pattern) }}, {{ replacement }})
{%- endmacro %}

{#- A pattern literal in Java's dialect, written as a Spark SQL literal (backslashes
    doubled): POSIX classes as Java's, and a final `$` as `\z` (the very end). A column of
    patterns is left as it is. -#}
{% macro java_regex(pattern) -%}
    {%- set ns = namespace(text=pattern | string) -%}
    {%- if not (ns.text.startswith("'") and ns.text.endswith("'")) -%}
        {{ return(ns.text) }}
    {%- endif -%}
    {%- set classes = {'[:space:]': '\\\\s', '[:digit:]': '\\\\d', '[:alpha:]': '\\\\p{Alpha}',
                       '[:alnum:]': '\\\\p{Alnum}', '[:upper:]': '\\\\p{Upper}', '[:lower:]': '\\\\p{Lower}'} -%}
    {%- for posix, java in classes.items() -%}
        {%- set ns.text = ns.text.replace(posix, java) -%}
    {%- endfor -%}
    {%- if ns.text.endswith("$'") -%}
        {%- set ns.text = ns.text[:-2] ~ "\\\\z'" -%}
    {%- endif -%}
    {{ return(ns.text) }}
{%- endmacro %}
