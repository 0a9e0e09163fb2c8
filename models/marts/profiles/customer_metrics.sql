{#- What each customer is worth and how they behave, one row per customer_id: orders
    online and in store together, refunds and cancellations counted apart and worth
    nothing, money in CNY, RFM scores and group, lifecycle stage. The statistical and rule
    tags read their values here; so can the predictive models (features). Times are
    relative to int_profile_as_of, never to the wall clock. -#}

with

customers as (
    select customer_id from {{ ref('customer_profiles') }}
),

as_of as (
    select * from {{ ref('int_profile_as_of') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
    where customer_id is not null
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

events as (
    select * from {{ ref('int_customer_events_unioned') }}
),

order_stats as (
    select
        customer_id,
        count(case when is_purchase then 1 end) as order_count,
        count(case when status = 'refunded' then 1 end) as refunded_order_count,
        count(case when status = 'cancelled' then 1 end) as cancelled_order_count,
        count(case when is_purchase and channel <> 'store' then 1 end) as online_order_count,
        count(case when is_purchase and channel = 'store' then 1 end) as store_order_count,
        coalesce(sum(net_amount_cny), 0) as lifetime_value,
        min(case when is_purchase then ordered_at end) as first_purchase_at,
        max(case when is_purchase then ordered_at end) as last_purchase_at
    from orders
    group by customer_id
),

channel_counts as (
    select
        customer_id,
        channel,
        count(*) as purchases,
        max(ordered_at) as last_at
    from orders
    where is_purchase
    group by customer_id, channel
),

preferred_channel as (
    select
        customer_id,
        channel,
        row_number() over (
            partition by customer_id order by purchases desc, last_at desc, channel asc
        ) as channel_rank
    from channel_counts
),

category_spend as (
    select
        orders.customer_id,
        order_items.category,
        sum(order_items.line_amount) as spend,
        sum(order_items.quantity) as items
    from orders
    inner join order_items on orders.order_id = order_items.order_id
    where orders.is_purchase and orders.source_name = 'shop_orders'
    group by orders.customer_id, order_items.category
),

favourite_category as (
    select
        customer_id,
        category,
        row_number() over (
            partition by customer_id order by spend desc, items desc, category asc
        ) as category_rank
    from category_spend
),

event_stats as (
    select
        customer_id,
        max(event_at) as last_active_at,
        max(case when source_name = 'app_events' then event_at end) as last_app_active_at,
        max(case when event_type in ('page_view', 'product_view') then event_at end) as last_browsed_at,
        max(case when event_type = 'add_to_cart' then event_at end) as last_carted_at
    from events
    group by customer_id
),

joined as (
    select
        customers.customer_id,
        as_of.as_of_date,
        coalesce(order_stats.order_count, 0) as order_count,
        coalesce(order_stats.refunded_order_count, 0) as refunded_order_count,
        coalesce(order_stats.cancelled_order_count, 0) as cancelled_order_count,
        coalesce(order_stats.online_order_count, 0) as online_order_count,
        coalesce(order_stats.store_order_count, 0) as store_order_count,
        coalesce(order_stats.lifetime_value, 0) as lifetime_value,
        order_stats.first_purchase_at,
        order_stats.last_purchase_at,
        {{ tianwen.days_between(
            "cast(order_stats.last_purchase_at as date)",
            "as_of.as_of_date"
        ) }} as days_since_last_purchase,
        {{ tianwen.days_between(
            "cast(order_stats.first_purchase_at as date)",
            "as_of.as_of_date"
        ) }} as days_since_first_purchase,
        {{ tianwen.days_between(
            "cast(order_stats.first_purchase_at as date)",
            "cast(order_stats.last_purchase_at as date)"
        ) }} as purchase_span_days,
        preferred_channel.channel as preferred_channel,
        favourite_category.category as favourite_category,
        event_stats.last_active_at,
        event_stats.last_app_active_at,
        event_stats.last_browsed_at,
        event_stats.last_carted_at,
        coalesce({{ tianwen.days_between(
            "cast(event_stats.last_app_active_at as date)",
            "as_of.as_of_date"
        ) }} < 30, false) as is_app_active_30d
    from customers
    cross join as_of
    left join order_stats on customers.customer_id = order_stats.customer_id
    left join preferred_channel
        on customers.customer_id = preferred_channel.customer_id and preferred_channel.channel_rank = 1
    left join favourite_category
        on customers.customer_id = favourite_category.customer_id and favourite_category.category_rank = 1
    left join event_stats on customers.customer_id = event_stats.customer_id
),

-- RFM among buyers: a score is 1 + floor(5 * (rank - 1) / buyers), so equal values share a score
buyer_ranks as (
    select
        customer_id,
        rank() over (order by cast(last_purchase_at as date)) as recency_rank,
        rank() over (order by order_count) as frequency_rank,
        rank() over (order by lifetime_value) as monetary_rank,
        count(*) over () as buyers
    from joined
    where order_count > 0
),

rfm as (
    select
        customer_id,
        1 + {{ tianwen.integer_divide('5 * (recency_rank - 1)', 'buyers') }} as rfm_recency_score,
        1 + {{ tianwen.integer_divide('5 * (frequency_rank - 1)', 'buyers') }} as rfm_frequency_score,
        1 + {{ tianwen.integer_divide('5 * (monetary_rank - 1)', 'buyers') }} as rfm_monetary_score
    from buyer_ranks
),

final as (
    select
        cast(joined.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(joined.as_of_date as date) as as_of_date,
        cast(joined.order_count as {{ dbt.type_bigint() }}) as order_count,
        cast(joined.online_order_count as {{ dbt.type_bigint() }}) as online_order_count,
        cast(joined.store_order_count as {{ dbt.type_bigint() }}) as store_order_count,
        cast(joined.refunded_order_count as {{ dbt.type_bigint() }}) as refunded_order_count,
        cast(joined.cancelled_order_count as {{ dbt.type_bigint() }}) as cancelled_order_count,
        cast(joined.lifetime_value as numeric(18, 2)) as lifetime_value,
        case
            when joined.order_count > 0
                then {{ tianwen.divide_rounded('joined.lifetime_value * 100', 'joined.order_count * 100') }}
        end as average_order_value,
        cast(joined.first_purchase_at as {{ dbt.type_timestamp() }}) as first_purchase_at,
        cast(joined.last_purchase_at as {{ dbt.type_timestamp() }}) as last_purchase_at,
        cast(joined.days_since_last_purchase as {{ dbt.type_int() }}) as days_since_last_purchase,
        case
            when joined.order_count > 1
                then {{ tianwen.divide_rounded('joined.purchase_span_days', 'joined.order_count - 1', 1) }}
        end as purchase_interval_days,
        cast(joined.preferred_channel as {{ dbt.type_string() }}) as preferred_channel,
        cast(joined.favourite_category as {{ dbt.type_string() }}) as favourite_category,
        cast(joined.last_active_at as {{ dbt.type_timestamp() }}) as last_active_at,
        cast(joined.last_app_active_at as {{ dbt.type_timestamp() }}) as last_app_active_at,
        cast(joined.last_browsed_at as {{ dbt.type_timestamp() }}) as last_browsed_at,
        cast(joined.last_carted_at as {{ dbt.type_timestamp() }}) as last_carted_at,
        joined.is_app_active_30d,
        cast(rfm.rfm_recency_score as {{ dbt.type_int() }}) as rfm_recency_score,
        cast(rfm.rfm_frequency_score as {{ dbt.type_int() }}) as rfm_frequency_score,
        cast(rfm.rfm_monetary_score as {{ dbt.type_int() }}) as rfm_monetary_score,
        cast(
            case
                when rfm.customer_id is null then null
                when rfm.rfm_recency_score >= 4 and rfm.rfm_frequency_score >= 4 then 'champions'
                when rfm.rfm_recency_score >= 3 and rfm.rfm_frequency_score >= 4 then 'loyal'
                when rfm.rfm_recency_score >= 4 and rfm.rfm_frequency_score >= 2 then 'potential'
                when rfm.rfm_recency_score >= 4 then 'new'
                when rfm.rfm_recency_score <= 2 and rfm.rfm_frequency_score >= 3 then 'at_risk'
                when rfm.rfm_recency_score = 3 then 'need_attention'
                when rfm.rfm_recency_score = 2 then 'hibernating'
                else 'lost'
            end
            as {{ dbt.type_string() }}
        ) as rfm_group,
        cast(
            case
                when joined.order_count = 0 then 'prospect'
                when joined.days_since_first_purchase < {{ var('lifecycle_new_days', 30) }} then 'new'
                when joined.days_since_last_purchase < {{ var('lifecycle_active_days', 90) }} then 'active'
                when joined.days_since_last_purchase < {{ var('lifecycle_lapsing_days', 180) }} then 'lapsing'
                else 'churned'
            end
            as {{ dbt.type_string() }}
        ) as lifecycle_stage
    from joined
    left join rfm on joined.customer_id = rfm.customer_id
)

select * from final
