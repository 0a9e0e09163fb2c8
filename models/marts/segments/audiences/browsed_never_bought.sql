{#- Retargeting: customers who browsed the shop or the app and never bought anything,
    online or in store. -#}
{{ config(meta={
    'segment_id': 'browsed_never_bought',
    'description': 'Browsed the shop or the app but never bought: retargeting.',
    'owner': 'growth-team',
    'channel': 'ads',
}) }}

with

metrics as (
    select * from {{ ref('customer_metrics') }}
),

final as (
    select customer_id
    from metrics
    where last_browsed_at is not null and order_count = 0
)

select * from final
