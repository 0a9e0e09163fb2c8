{#- Per campaign: conversion of the treated group against its holdout (a paid order within
    campaign_effect_window_days after the customer's assignment), the uplift with a 95%
    confidence interval (normal approximation for a difference of two proportions), and the
    engagement funnel of the treated customers from channel_engagements (campaign_id). -#}
{%- set window_days = var('campaign_effect_window_days') %}

with

assignments as (
    select * from {{ ref('campaign_assignments') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
    where is_purchase
),

identities as (
    select * from {{ ref('customer_identities') }}
),

engagements as (
    select * from {{ ref('stg_channels__engagements') }}
),

conversions as (
    select
        assignments.campaign_id,
        assignments.customer_id,
        assignments.assignment_group,
        max(case when orders.order_id is not null then 1 else 0 end) as has_converted
    from assignments
    left join orders
        on
            assignments.customer_id = orders.customer_id
            and {{ is_campaign_conversion('assignments.assigned_at', 'orders.ordered_at') }}
    group by assignments.campaign_id, assignments.customer_id, assignments.assignment_group
),

groups as (
    select
        campaign_id,
        count(*) filter (where assignment_group = 'treatment') as treated_customers,
        count(*) filter (where assignment_group = 'holdout') as holdout_customers,
        cast(sum(case when assignment_group = 'treatment' then has_converted else 0 end) as {{ dbt.type_bigint() }})
            as treated_conversions,
        cast(sum(case when assignment_group = 'holdout' then has_converted else 0 end) as {{ dbt.type_bigint() }})
            as holdout_conversions
    from conversions
    group by campaign_id
),

rates as (
    select
        *,
        cast(treated_conversions as {{ tianwen.type_double() }}) / nullif(treated_customers, 0) as treated_rate,
        cast(holdout_conversions as {{ tianwen.type_double() }}) / nullif(holdout_customers, 0) as holdout_rate
    from groups
),

effects as (
    select
        *,
        treated_rate - holdout_rate as uplift,
        sqrt(
            treated_rate * (1 - treated_rate) / nullif(treated_customers, 0)
            + holdout_rate * (1 - holdout_rate) / nullif(holdout_customers, 0)
        ) as uplift_standard_error
    from rates
),

funnel as (
    select
        engagements.campaign_id,
        count(distinct case when engagements.event_type = 'delivered' then identities.customer_id end)
            as delivered_customers,
        count(distinct case when engagements.event_type = 'opened' then identities.customer_id end)
            as opened_customers,
        count(distinct case when engagements.event_type = 'clicked' then identities.customer_id end)
            as clicked_customers,
        count(distinct case when engagements.event_type = 'unsubscribed' then identities.customer_id end)
            as unsubscribed_customers
    from engagements
    inner join identities
        on
            engagements.identifier_type = identities.identifier_type
            and engagements.identifier_value = identities.identifier_value
    inner join assignments
        on
            engagements.campaign_id = assignments.campaign_id
            and identities.customer_id = assignments.customer_id
            and assignments.assignment_group = 'treatment'
    group by engagements.campaign_id
),

final as (
    select
        cast(effects.campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(effects.treated_customers as {{ dbt.type_bigint() }}) as treated_customers,
        cast(effects.holdout_customers as {{ dbt.type_bigint() }}) as holdout_customers,
        effects.treated_conversions,
        effects.holdout_conversions,
        cast(effects.treated_rate as {{ dbt.type_numeric() }}) as treated_conversion_rate,
        cast(effects.holdout_rate as {{ dbt.type_numeric() }}) as holdout_conversion_rate,
        cast(effects.uplift as {{ dbt.type_numeric() }}) as uplift,
        cast(effects.uplift - 1.96 * effects.uplift_standard_error as {{ dbt.type_numeric() }}) as uplift_ci_low,
        cast(effects.uplift + 1.96 * effects.uplift_standard_error as {{ dbt.type_numeric() }}) as uplift_ci_high,
        cast({{ window_days }} as {{ dbt.type_int() }}) as window_days,
        cast(coalesce(funnel.delivered_customers, 0) as {{ dbt.type_bigint() }}) as delivered_customers,
        cast(coalesce(funnel.opened_customers, 0) as {{ dbt.type_bigint() }}) as opened_customers,
        cast(coalesce(funnel.clicked_customers, 0) as {{ dbt.type_bigint() }}) as clicked_customers,
        cast(coalesce(funnel.unsubscribed_customers, 0) as {{ dbt.type_bigint() }}) as unsubscribed_customers
    from effects
    left join funnel on effects.campaign_id = funnel.campaign_id
)

select * from final
