{#- What customer_tag_history keeps: one row per customer, one typed column per tag of the
    registry, except the tags declared `history: false` (values that move with the calendar
    alone) and the build time (it changes every build). Wide, so the snapshot compares one row
    per customer rather than one per (customer, tag). -#}
{%- set tags = tianwen.tag_definitions() %}

with

customer_tags_wide as (
    select * from {{ ref('customer_tags_wide') }}
),

final as (
    select
        customer_id,
        {%- for tag in tags if tag.get('history', true) %}
        {{ tag.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from customer_tags_wide
)

select * from final
