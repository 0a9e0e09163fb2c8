{#- Recall: customers who bought before but not in the last 90 days (lifecycle lapsing or
    churned). -#}
{{ config(meta={
    'segment_id': 'lapsed_buyers',
    'description': 'Bought before, not in the last 90 days (lifecycle lapsing or churned): recall.',
    'owner': 'crm-team',
    'channel': 'sms',
}) }}

with

metrics as (
    select * from {{ ref('customer_metrics') }}
),

final as (
    select customer_id
    from metrics
    where lifecycle_stage in ('lapsing', 'churned')
)

select * from final
