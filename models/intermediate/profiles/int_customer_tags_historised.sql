{#- The tags whose values customer_tag_history keeps: every tag of customer_tags except those
    declared `history: false` (values that move with the calendar alone). -#}
{%- set untracked = [] -%}
{%- for tag in tianwen.tag_definitions() if not tag.get('history', true) -%}
    {%- do untracked.append(tag.name) -%}
{%- endfor %}

with

customer_tags as (
    select * from {{ ref('customer_tags') }}
),

final as (
    select
        customer_id,
        tag_name,
        tag_value,
        computed_at
    from customer_tags
    {%- if untracked %}
    where tag_name not in ({{ tianwen.sql_string_list(untracked) }})
    {%- endif %}
)

select * from final
