{#- Any timestamp spelling of the landing contract to a UTC timestamp (without zone):
    ISO-8601 with 'T' or a space, with 'Z', '+08:00', '+0800' or '+08', without an offset
    (then var('default_utc_offset_minutes') applies, Asia/Shanghai by default), a bare date
    (midnight local), or epoch milliseconds (12 to 13 digits). Anything else gives null.
    The patterns only admit hours 00-23, minutes and seconds 00-59 and offsets up to ±14:59,
    so a leap second (23:59:60, which PostgreSQL would roll into the next minute and DuckDB
    would reject) and an offset like +99:99 are null, i.e. invalid_value, on both engines. -#}
{% macro parse_timestamp_utc(column) -%}
    {%- set v = "replace(upper(trim(" ~ column ~ ")), 'T', ' ')" -%}
    {%- set clock = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?" -%}
    {%- set local = "[0-9]{4}-[0-9]{2}-[0-9]{2}( " ~ clock ~ ")?" -%}
    {%- set with_time = "[0-9]{4}-[0-9]{2}-[0-9]{2} " ~ clock -%}
    {%- set hh = "(0[0-9]|1[0-4])" -%}
    case
        when {{ tianwen.regexp_like(v, "'^[0-9]{12,13}$'") }}
            then {{ epoch_ms_to_timestamp(v) }}
        when {{ tianwen.regexp_like(v, "'^" ~ local ~ "Z$'") }}
            then {{ dbt.safe_cast('left(' ~ v ~ ', length(' ~ v ~ ') - 1)', 'timestamp') }}
        when {{ tianwen.regexp_like(v, "'^" ~ with_time ~ "[+-]" ~ hh ~ ":[0-5][0-9]$'") }}
            then {{ _shift_by_offset(v, 6) }}
        when {{ tianwen.regexp_like(v, "'^" ~ with_time ~ "[+-]" ~ hh ~ "[0-5][0-9]$'") }}
            then {{ _shift_by_offset(v, 5) }}
        when {{ tianwen.regexp_like(v, "'^" ~ with_time ~ "[+-]" ~ hh ~ "$'") }}
            then {{ _shift_by_offset(v, 3) }}
        when {{ tianwen.regexp_like(v, "'^" ~ local ~ "$'") }}
            then {{ dbt.dateadd('minute', -1 * var('default_utc_offset_minutes'), dbt.safe_cast(v, 'timestamp')) }}
    end
{%- endmacro %}

{#- Local time minus its offset: the suffix is the last `width` characters ('+08:00',
    '+0800' or '+08'); the digits are at fixed places within it. -#}
{% macro _shift_by_offset(v, width) -%}
    {%- set suffix = "right(" ~ v ~ ", " ~ width ~ ")" -%}
    {%- set hours = "cast(substring(" ~ suffix ~ ", 2, 2) as integer)" -%}
    {%- if width == 3 -%}
        {%- set minutes = "0" -%}
    {%- else -%}
        {%- set minutes = "cast(substring(" ~ suffix ~ ", " ~ (width - 1) ~ ", 2) as integer)" -%}
    {%- endif -%}
    {%- set sign = "(case when left(" ~ suffix ~ ", 1) = '-' then -1 else 1 end)" -%}
    {%- set local_ts = dbt.safe_cast("left(" ~ v ~ ", length(" ~ v ~ ") - " ~ width ~ ")", 'timestamp') -%}
    {{ dbt.dateadd('minute', "-1 * " ~ sign ~ " * (" ~ hours ~ " * 60 + " ~ minutes ~ ")", local_ts) }}
{%- endmacro %}

{#- Epoch milliseconds to a UTC timestamp without zone. -#}
{% macro epoch_ms_to_timestamp(milliseconds) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'tianwen')(milliseconds)) }}
{%- endmacro %}

{% macro default__epoch_ms_to_timestamp(milliseconds) -%}
    cast(to_timestamp(cast({{ milliseconds }} as bigint) / 1000.0) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__epoch_ms_to_timestamp(milliseconds) -%}
    epoch_ms(cast({{ milliseconds }} as bigint))
{%- endmacro %}
