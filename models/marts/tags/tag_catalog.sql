{#- The tag data dictionary, generated from the tag registry (macros/tags/tag_definitions.sql):
    one row per tag with its declaration and its coverage in this build (how many customers
    have a value, of how many, and how many distinct values). -#}
{%- set tags = tianwen.tag_definitions() %}

with

customer_tags as (
    select * from {{ ref('customer_tags') }}
),

customers as (
    select count(*) as customer_count from {{ ref('customer_profiles') }}
),

declarations as (
    {%- for tag in tags %}
    select
        {{ loop.index }} as tag_order,
        '{{ tag.name }}' as tag_name,
        '{{ tag.kind }}' as tag_kind,
        '{{ tag.value_type }}' as value_type,
        {{ tianwen.sql_literal(tag.description) }} as description,
        '{{ tag.owner }}' as owner_team,
        '{{ tag.refresh }}' as refresh_schedule,
        '{{ tianwen.tag_origin(tag) }}' as source_model,
        {{ tianwen.sql_literal(tag.get("column") or tag.expression) }} as source_sql,
        {{ 'true' if tag.get('history', true) else 'false' }} as is_historised
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

coverage as (
    select
        tag_name,
        count(*) as customers_tagged,
        count(distinct tag_value) as distinct_values
    from customer_tags
    group by tag_name
),

final as (
    select
        cast(declarations.tag_name as {{ dbt.type_string() }}) as tag_name,
        cast(declarations.tag_kind as {{ dbt.type_string() }}) as tag_kind,
        cast(declarations.value_type as {{ dbt.type_string() }}) as value_type,
        cast(declarations.description as {{ dbt.type_string() }}) as description,
        cast(declarations.owner_team as {{ dbt.type_string() }}) as owner_team,
        cast(declarations.refresh_schedule as {{ dbt.type_string() }}) as refresh_schedule,
        cast(declarations.source_model as {{ dbt.type_string() }}) as source_model,
        cast(declarations.source_sql as {{ dbt.type_string() }}) as source_sql,
        cast(declarations.tag_order as {{ dbt.type_int() }}) as tag_order,
        cast(declarations.is_historised as {{ dbt.type_boolean() }}) as is_historised,
        cast(coalesce(coverage.customers_tagged, 0) as {{ dbt.type_bigint() }}) as customers_tagged,
        cast(customers.customer_count as {{ dbt.type_bigint() }}) as customer_count,
        case
            when customers.customer_count > 0 and coverage.customers_tagged is not null
                then {{ tianwen.divide_rounded('coverage.customers_tagged', 'customers.customer_count', 4) }}
            when customers.customer_count > 0 then 0
        end as coverage,
        cast(coalesce(coverage.distinct_values, 0) as {{ dbt.type_bigint() }}) as distinct_values,
        {{ run_timestamp() }} as computed_at
    from declarations
    cross join customers
    left join coverage on declarations.tag_name = coverage.tag_name
)

select * from final
