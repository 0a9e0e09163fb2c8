{#- One row per customer, one typed column per tag, for BI tools: generated from the tag
    registry (macros/tags/tag_definitions.sql). A customer a tag's model has no row for has
    null there. -#}
{%- set tags = tianwen.tag_definitions() %}
{%- set origins = {} %}
{%- for tag in tags %}{% do origins.setdefault(tianwen.tag_origin(tag), tag) %}{% endfor %}

with

customers as (
    select customer_id from {{ ref('customer_profiles') }}
),

{% for origin, first_tag in origins.items() %}
from_{{ origin }} as (
    select
        customer_id,
        {%- for tag in tags if tianwen.tag_origin(tag) == origin %}
        {{ tianwen.tag_value_sql(tag) }} as {{ tag.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ tianwen.tag_relation(first_tag) }}
),

{% endfor -%}

final as (
    select
        cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
        {%- for tag in tags %}
        from_{{ tianwen.tag_origin(tag) }}.{{ tag.name }},
        {%- endfor %}
        {{ run_timestamp() }} as computed_at
    from
        customers
    {%- for origin in origins %}
left join from_{{ origin }} on customers.customer_id = from_{{ origin }}.customer_id
    {%- endfor %}
)

select * from final
