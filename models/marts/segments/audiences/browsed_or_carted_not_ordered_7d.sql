{#- Promotion: customers who browsed or added to cart in the last 7 days (the as-of day and
    the six before it) and have not ordered since. -#}
{{ config(meta={
    'segment_id': 'browsed_or_carted_not_ordered_7d',
    'description': 'Browsed or carted in the last 7 days without ordering since: promotion.',
    'owner': 'growth-team',
    'channel': 'push',
}) }}

with

metrics as (
    select * from {{ ref('customer_metrics') }}
),

active as (
    select
        customer_id,
        last_purchase_at,
        case
            when last_carted_at is null then last_browsed_at
            when last_browsed_at is null or last_carted_at > last_browsed_at then last_carted_at
            else last_browsed_at
        end as last_interest_at,
        as_of_date
    from metrics
),

final as (
    select customer_id
    from active
    where
        {{ tianwen.days_between("cast(last_interest_at as date)", "as_of_date") }} < 7
        and (last_purchase_at is null or last_purchase_at < last_interest_at)
)

select * from final
