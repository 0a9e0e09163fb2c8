{#- One row per customer, one typed column per tag, for BI tools: generated from the tag
    registry (macros/tags/tag_definitions.sql). A customer a tag's model has no row for has
    null there. -#}
{%- set tags = tianwen.tag_definitions() %}
{%- set models = [] %}
{%- for tag in tags if tag.model not in models %}{% do models.append(tag.model) %}{% endfor %}

with

customers as (
    select customer_id from {{ ref('customer_profiles') }}
),

{% for model_name in models %}
from_{{ model_name }} as (
    select
        customer_id,
        {%- for tag in tags if tag.model == model_name %}
        {{ tianwen.tag_value_sql(tag) }} as {{ tag.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref(model_name) }}
),

{% endfor -%}

final as (
    select
        cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
        {%- for tag in tags %}
        from_{{ tag.model }}.{{ tag.name }},
        {%- endfor %}
        cast('{{ run_started_at }}' as {{ dbt.type_timestamp() }}) as computed_at
    from
        customers
    {%- for model_name in models %}
left join from_{{ model_name }} on customers.customer_id = from_{{ model_name }}.customer_id
    {%- endfor %}
)

select * from final
