{#- Per customer, how they respond to campaigns, for the campaign tags: a response is a click
    on a campaign's message (channel_engagements), or, for a customer the campaign treated, a
    paid order within campaign_effect_window_days after the assignment (the conversion
    campaign_effects counts). Customers with no engagement and no assignment have no row. -#}
with

identities as (
    select * from {{ ref('customer_identities') }}
),

engagements as (
    select * from {{ ref('stg_channels__engagements') }}
),

assignments as (
    select * from {{ ref('campaign_assignments') }}
    where assignment_group = 'treatment'
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
    where is_purchase
),

customer_engagements as (
    select
        identities.customer_id,
        engagements.campaign_id,
        engagements.channel,
        engagements.event_type,
        engagements.event_at
    from engagements
    inner join identities
        on
            engagements.identifier_type = identities.identifier_type
            and engagements.identifier_value = identities.identifier_value
),

responses as (
    select
        customer_id,
        campaign_id,
        event_at as responded_at
    from customer_engagements
    where event_type = 'clicked' and campaign_id is not null
    union all
    select
        assignments.customer_id,
        assignments.campaign_id,
        min(orders.ordered_at) as responded_at
    from assignments
    inner join orders
        on
            assignments.customer_id = orders.customer_id
            and {{ is_campaign_conversion('assignments.assigned_at', 'orders.ordered_at') }}
    group by assignments.customer_id, assignments.campaign_id
),

response_counts as (
    select
        customer_id,
        count(distinct campaign_id) as responded_campaign_count
    from responses
    group by customer_id
),

latest_response as (
    select
        customer_id,
        campaign_id,
        row_number() over (
            partition by customer_id order by responded_at desc, campaign_id asc
        ) as recency_rank
    from responses
),

channel_interest as (
    select
        customer_id,
        channel,
        row_number() over (
            partition by customer_id order by count(*) desc, channel asc
        ) as interest_rank
    from customer_engagements
    where event_type in ('opened', 'clicked')
    group by customer_id, channel
),

reached as (
    select customer_id from customer_engagements
    union
    select customer_id from assignments
),

final as (
    select
        cast(reached.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(coalesce(response_counts.responded_campaign_count, 0) as {{ dbt.type_int() }})
            as responded_campaign_count,
        cast(latest_response.campaign_id as {{ dbt.type_string() }}) as last_responded_campaign_id,
        cast(channel_interest.channel as {{ dbt.type_string() }}) as most_responsive_channel
    from reached
    left join response_counts on reached.customer_id = response_counts.customer_id
    left join latest_response
        on reached.customer_id = latest_response.customer_id and latest_response.recency_rank = 1
    left join channel_interest
        on reached.customer_id = channel_interest.customer_id and channel_interest.interest_rank = 1
)

select * from final
