{#- Every tag of every customer, long: one row per (customer, tag) that has a value, the
    value as text, generated from the tag registry (macros/tags/tag_definitions.sql).
    Channels and the segment builder read it; customer_tags_wide has the typed columns. -#}
{%- set tags = tianwen.tag_definitions() %}

with

wide as (
    select * from {{ ref('customer_tags_wide') }}
),

unpivoted as (
    {%- for tag in tags %}
    select
        customer_id,
        '{{ tag.name }}' as tag_name,
        cast({{ tag.name }} as {{ dbt.type_string() }}) as tag_value,
        computed_at
    from wide
    where {{ tag.name }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(tag_name as {{ dbt.type_string() }}) as tag_name,
        cast(tag_value as {{ dbt.type_string() }}) as tag_value,
        cast(computed_at as {{ dbt.type_timestamp() }}) as computed_at
    from unpivoted
)

select * from final
