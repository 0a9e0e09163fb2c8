{#- One entry point for every identifier type: the canonical spelling of a raw value, or
    null when the value is absent or malformed. Junk values (placeholders shared by many
    people) are well-formed and pass here; the identifier_blocklist seed flags them. -#}
{% macro normalize_identifier(identifier_type, column) -%}
    {%- set normalizers = {
        'member_id': normalize_member_id,
        'mobile': normalize_mobile,
        'email': normalize_email,
        'anonymous_id': normalize_uuid_like,
        'device_id': normalize_uuid_like,
        'idfa': normalize_idfa,
        'imei': normalize_imei,
        'oaid': normalize_uuid_like,
        'openid': normalize_wechat_id,
        'unionid': normalize_wechat_id,
        'member_card_no': normalize_member_card_no,
    } -%}
    {%- if identifier_type not in normalizers -%}
        {{ exceptions.raise_compiler_error(
            "normalize_identifier: unknown identifier type '" ~ identifier_type
            ~ "'; known: " ~ normalizers.keys() | list | join(', ')) }}
    {%- endif -%}
    {{ normalizers[identifier_type](column) }}
{%- endmacro %}

{#- For rows that name their identifier's type in another column (consent, erasure,
    engagements). -#}
{% macro normalize_identifier_by_type(type_column, value_column) -%}
    case lower(trim({{ type_column }}))
    {%- for identifier_type in var('tianwen_enums')['identifier_type'] %}
        when '{{ identifier_type }}' then {{ normalize_identifier(identifier_type, value_column) }}
    {%- endfor %}
    end
{%- endmacro %}

{#- Mainland mobile as 11 digits: separators dropped, +86 / 86 / 0086 prefix removed. -#}
{% macro normalize_mobile(column) -%}
    {%- set digits = tianwen.regexp_replace_all(column, "'[[:space:]()+.-]'") -%}
    case
        when {{ tianwen.regexp_like(digits, "'^(0086|86)?1[3-9][0-9]{9}$'") }} then right({{ digits }}, 11)
    end
{%- endmacro %}

{#- Lower case, no white space anywhere, and the shape local@domain.tld. -#}
{% macro normalize_email(column) -%}
    {%- set cleaned = "lower(" ~ tianwen.regexp_replace_all(column, "'[[:space:]]'") ~ ")" -%}
    case
        when {{ tianwen.regexp_like(cleaned, "'^[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$'") }}
            then {{ cleaned }}
    end
{%- endmacro %}

{#- Apple's advertising id: an upper-case UUID. -#}
{% macro normalize_idfa(column) -%}
    {%- set cleaned = "upper(trim(" ~ column ~ "))" -%}
    case
        when {{ tianwen.regexp_like(cleaned, "'^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$'") }}
            then {{ cleaned }}
    end
{%- endmacro %}

{#- A handset id: an IMEI, 15 digits (spaces and dashes dropped) whose Luhn check digit is
    right, or a MEID (China Telecom's CDMA handsets), 14 hex digits, in upper case. -#}
{% macro normalize_imei(column) -%}
    {%- set cleaned = "upper(" ~ tianwen.regexp_replace_all(column, "'[[:space:]-]'") ~ ")" -%}
    {#- nested, not AND: DuckDB evaluates both sides of AND, and the cast needs digits -#}
    case
        when {{ tianwen.regexp_like(cleaned, "'^[0-9]{15}$'") }} then
            case when {{ _luhn_sum(cleaned, 15) }} % 10 = 0 then {{ cleaned }} end
        when {{ tianwen.regexp_like(cleaned, "'^[0-9A-F]{14}$'") }} then {{ cleaned }}
    end
{%- endmacro %}

{% macro _luhn_sum(cleaned, length) -%}
    (
    {%- for position in range(1, length + 1) %}
        {%- set digit = "cast(substring(" ~ cleaned ~ ", " ~ position ~ ", 1) as integer)" %}
        {%- if (length - position) % 2 == 1 %}
        (case when {{ digit }} * 2 > 9 then {{ digit }} * 2 - 9 else {{ digit }} * 2 end)
        {%- else %}
        {{ digit }}
        {%- endif %}
        {%- if not loop.last %} + {% endif %}
    {%- endfor %}
    )
{%- endmacro %}

{#- Cookies, SDK device ids and OAIDs: lower-case hex-like tokens. -#}
{% macro normalize_uuid_like(column) -%}
    {%- set cleaned = "lower(trim(" ~ column ~ "))" -%}
    case
        when {{ tianwen.regexp_like(cleaned, "'^[0-9a-z][0-9a-z_-]{7,63}$'") }} then {{ cleaned }}
    end
{%- endmacro %}

{#- WeChat openid / unionid: case-sensitive tokens of 16 to 64 characters. -#}
{% macro normalize_wechat_id(column) -%}
    case
        when {{ tianwen.regexp_like("trim(" ~ column ~ ")", "'^[A-Za-z0-9_-]{16,64}$'") }} then trim({{ column }})
    end
{%- endmacro %}

{% macro normalize_member_id(column) -%}
    case
        when {{ tianwen.regexp_like("upper(trim(" ~ column ~ "))", "'^[A-Z0-9_-]{1,64}$'") }} then upper(trim({{ column }}))
    end
{%- endmacro %}

{% macro normalize_member_card_no(column) -%}
    {%- set cleaned = "upper(" ~ tianwen.regexp_replace_all(column, "'[[:space:]-]'") ~ ")" -%}
    case
        when {{ tianwen.regexp_like(cleaned, "'^[0-9A-Z]{4,32}$'") }} then {{ cleaned }}
    end
{%- endmacro %}

{#- Why normalize_identifier turned a present raw value into null: a short code for
    marts.identifier_rejections. Only meaningful where the raw value is present and the
    normalised one is null. -#}
{% macro identifier_rejection_reason(identifier_type, column) -%}
    {%- if identifier_type == 'mobile' -%}
        {%- set digits = tianwen.regexp_replace_all(column, "'[[:space:]()+.-]'") -%}
    case
        when not {{ tianwen.regexp_like(digits, "'^[0-9]+$'") }} then 'not_digits'
        when {{ tianwen.regexp_like(digits, "'^(0086|86)?[0-9]{11}$'") }} then 'not_mainland_mobile'
        else 'wrong_length'
    end
    {%- elif identifier_type == 'imei' -%}
        {%- set cleaned = "upper(" ~ tianwen.regexp_replace_all(column, "'[[:space:]-]'") ~ ")" -%}
    case
        when {{ tianwen.regexp_like(cleaned, "'^[0-9]{15}$'") }} then 'bad_check_digit'
        when {{ tianwen.regexp_like(cleaned, "'^[0-9A-F]+$'") }} then 'wrong_length'
        else 'bad_characters'
    end
    {%- else -%}
    'bad_format'
    {%- endif -%}
{%- endmacro %}

{#- A value fit to show in a report: first three and last two characters, the rest masked;
    short values are masked whole. -#}
{% macro mask_identifier(column) -%}
    case
        when length({{ column }}) <= 6 then repeat('*', length({{ column }}))
        else left({{ column }}, 3) || repeat('*', length({{ column }}) - 5) || right({{ column }}, 2)
    end
{%- endmacro %}
