{#- Typing of raw text. Each parser returns null for an absent value and for a value it
    can't read; staging tells the two apart (raw present, typed null = invalid_value). -#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro parse_decimal(column, type='numeric(18, 2)') -%}
    case
        when {{ tianwen.regexp_like("trim(" ~ column ~ ")", "'^-?[0-9]+([.][0-9]+)?$'") }}
            then {{ dbt.safe_cast('trim(' ~ column ~ ')', type) }}
    end
{%- endmacro %}

{% macro parse_integer(column) -%}
    case
        when {{ tianwen.regexp_like("trim(" ~ column ~ ")", "'^-?[0-9]{1,9}$'") }}
            then {{ dbt.safe_cast('trim(' ~ column ~ ')', 'integer') }}
    end
{%- endmacro %}

{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('1', 'true', 't', 'yes', 'y') then true
        when lower(trim({{ column }})) in ('0', 'false', 'f', 'no', 'n') then false
    end
{%- endmacro %}

{% macro parse_date(column) -%}
    case
        when {{ tianwen.regexp_like("trim(" ~ column ~ ")", "'^[0-9]{4}-[0-9]{2}-[0-9]{2}$'") }}
            then {{ dbt.safe_cast('trim(' ~ column ~ ')', 'date') }}
    end
{%- endmacro %}

{#- Maps a raw spelling to its canonical enum value, from var('tianwen_enums')[domain]. -#}
{% macro map_enum(column, domain) -%}
    {%- set enums = var('tianwen_enums') -%}
    {%- if domain not in enums -%}
        {{ exceptions.raise_compiler_error(
            "map_enum: no enum '" ~ domain ~ "': add it to vars.tianwen_enums in dbt_project.yml") }}
    {%- endif -%}
    {%- set spec = enums[domain] -%}
    case lower(trim({{ column }}))
    {%- if spec is mapping %}
        {%- for canonical, spellings in spec.items() %}
            {%- for spelling in spellings %}
        when '{{ spelling | lower }}' then '{{ canonical }}'
            {%- endfor %}
        {%- endfor %}
    {%- else %}
        {%- for value in spec %}
        when '{{ value | lower }}' then '{{ value }}'
        {%- endfor %}
    {%- endif %}
    end
{%- endmacro %}
