{#- Masking for BI: what a column's YAML meta (pii, pii_category) says decides how it is shown.
    One rule set, used by every view in the bi schema. -#}

{% macro mask_mobile(column) -%}
    case when {{ column }} is null then null
        else substr({{ column }}, 1, 3) || '****' || {{ dbt.right(column, 4) }} end
{%- endmacro %}


{% macro mask_email(column) -%}
    case when {{ column }} is null then null
        else substr({{ column }}, 1, 1) || '***@' || {{ dbt.split_part(column, "'@'", 2) }} end
{%- endmacro %}


{#- year and month only: the day of birth is what identifies -#}
{% macro mask_birth_date(column) -%}
    substr(cast({{ column }} as {{ dbt.type_string() }}), 1, 7)
{%- endmacro %}


{% macro mask_name(column) -%}
    case when {{ column }} is null then null else substr({{ column }}, 1, 1) || '**' end
{%- endmacro %}


{#- a keyed hash: stable across views and builds (joins still work in BI), not reversible by
    hashing guessed values, because the key lives in a table the BI role cannot read -#}
{% macro pseudonymise(column, key_column) -%}
    case when {{ column }} is null then null
        else {{ dbt.hash(key_column ~ " || ':' || cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")") }} end
{%- endmacro %}


{% macro mask_column(name, meta, key_column) -%}
    {%- set quoted = adapter.quote(name) -%}
    {%- if not meta.get('pii') -%}
        {{ quoted }}
    {%- elif 'mobile' in name -%}
        {{ tianwen.mask_mobile(quoted) }}
    {%- elif 'email' in name -%}
        {{ tianwen.mask_email(quoted) }}
    {%- elif 'birth' in name -%}
        {{ tianwen.mask_birth_date(quoted) }}
    {%- elif name in ('full_name', 'nickname') -%}
        {{ tianwen.mask_name(quoted) }}
    {%- else -%}
        {{ tianwen.pseudonymise(quoted, key_column) }}
    {%- endif %} as {{ quoted }}
{%- endmacro %}


{#- The body of a bi view: every column of the model, masked by its YAML meta. Columns the
    YAML does not list (a tag added to customer_tags_wide) pass through only when their name
    does not look personal; otherwise they are pseudonymised. -#}
{% macro masked_view(model_name) %}
{%- set source_relation = ref(model_name) -%}
{%- set key_relation = ref('bi_pseudonym_key') -%}
{%- set columns = [] -%}
{%- if execute -%}
    {%- set metas = {} -%}
    {%- for node in graph.nodes.values() if node.name == model_name -%}
        {%- for column in node.columns.values() -%}
            {%- do metas.update({column.name: column.meta or column.config.meta or {}}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for column in adapter.get_columns_in_relation(source_relation) -%}
        {%- set name = column.name | lower -%}
        {%- set meta = metas.get(name) -%}
        {%- if meta is none -%}
            {%- set meta = {'pii': modules.re.search('mobile|email|name|birth|openid|unionid|idfa|imei|oaid|device|address', name) is not none} -%}
        {%- endif -%}
        {%- do columns.append(tianwen.mask_column(name, meta, 'pseudonym_key.hash_key')) -%}
    {%- endfor -%}
{%- endif %}
with

source as (
    select * from {{ source_relation }}
),

pseudonym_key as (
    select hash_key from {{ key_relation }}
),

masked as (
    select
        {{ columns | join(',\n        ') if columns else '*' }}
    from source
    cross join pseudonym_key
)

select * from masked
{% endmacro %}
