{#- Save: big spenders (RFM monetary score 4 or 5) who have not bought recently (recency
    score 1 or 2). -#}
{{ config(meta={
    'segment_id': 'high_value_at_risk',
    'description': 'RFM monetary 4-5 with recency 1-2: high value at risk.',
    'owner': 'crm-team',
    'channel': 'email',
}) }}

with

metrics as (
    select * from {{ ref('customer_metrics') }}
),

final as (
    select customer_id
    from metrics
    where rfm_monetary_score >= 4 and rfm_recency_score <= 2
)

select * from final
