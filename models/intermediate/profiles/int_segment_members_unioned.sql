{#- Today's members of every segment (models/marts/segments/audiences, listed in
    macros/segments/segment_models.sql), one row per (segment, customer). The
    segment_membership_history snapshot records entries and exits from it. -#}
{%- set segments = tianwen.segment_models() %}
{#- dbt needs every ref at parse time: the list, not the graph, drives them -#}
{%- for name in segments %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
{%- set metas = tianwen.segment_meta() %}

with

unioned as (
    {%- for meta in metas %}
    select distinct
        '{{ meta.segment_id }}' as segment_id,
        customer_id
    from {{ ref(meta.model) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not metas %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as customer_id
    where 1 = 0
    {%- endif %}
),

final as (
    select
        cast(segment_id || ':' || customer_id as {{ dbt.type_string() }}) as membership_key,
        cast(segment_id as {{ dbt.type_string() }}) as segment_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id
    from unioned
)

select * from final
