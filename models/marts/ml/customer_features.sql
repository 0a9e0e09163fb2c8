{#- Behaviour features per buyer AS OF three moments, with what happened after each: the
    training table of the predictive tags (docs/predictive-tags.md). The reference moment R is
    midnight (UTC) after the latest purchase, or var ml_reference_date. Snapshots:
    training at R - 2H, validation at R - H (H = ml_churn_horizon_days), scoring at R.
    Features read only purchases and events strictly before as_of_at, in a fixed lookback
    window (ml_lookback_days), so every snapshot sees the same amount of history; labels
    read only what happened from as_of_at on, and are null for the scoring snapshot. -#}
{%- set horizon = var('ml_churn_horizon_days') -%}
{%- set purchase_horizon = var('ml_purchase_horizon_days') -%}
{%- set lookback = var('ml_lookback_days') -%}
{%- set next_midnight = dbt.dateadd('day', 1, dbt.date_trunc('day', 'max(purchased_at)')) -%}

with

identities as (
    select * from {{ ref('customer_identities') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

customer_events as (
    select * from {{ ref('int_customer_events_unioned') }}
),

-- Online orders and till receipts of a known customer (the customer the profile marts give
-- them), refunded ones included (a visit), cancelled ones not. Spend is net CNY.
purchases as (
    select
        customer_id,
        case when channel = 'store' then 'store' else 'online' end as purchase_channel,
        ordered_at as purchased_at,
        coalesce(net_amount_cny, 0) as paid_amount,
        case when status = 'refunded' then 1 else 0 end as is_refunded
    from orders
    where status <> 'cancelled' and customer_id is not null
),

events as (
    select
        customer_id,
        source_name,
        event_at
    from customer_events
),

reference as (
    {%- if var('ml_reference_date') %}
    select cast('{{ var("ml_reference_date") }}' as {{ dbt.type_timestamp() }}) as reference_at
    {%- else %}
    select cast({{ next_midnight }} as {{ dbt.type_timestamp() }}) as reference_at
    from purchases
    {%- endif %}
),

snapshots as (
    select
        'training' as snapshot_name,
        {{ dbt.dateadd('day', -2 * horizon, 'reference_at') }} as as_of_at
    from reference
    union all
    select
        'validation' as snapshot_name,
        {{ dbt.dateadd('day', -horizon, 'reference_at') }} as as_of_at
    from reference
    union all
    select
        'scoring' as snapshot_name,
        reference_at as as_of_at
    from reference
),

-- Only purchases inside the lookback window before each snapshot.
purchases_before as (
    select
        snapshots.snapshot_name,
        snapshots.as_of_at,
        purchases.customer_id,
        purchases.purchase_channel,
        purchases.purchased_at,
        purchases.paid_amount,
        purchases.is_refunded,
        -- whole calendar days on every engine
        {{ tianwen.days_between(
            "cast(purchases.purchased_at as date)",
            "cast(snapshots.as_of_at as date)"
        ) }} as days_before
    from snapshots
    inner join purchases
        on
            snapshots.as_of_at > purchases.purchased_at
            and {{ dbt.dateadd('day', -lookback, 'snapshots.as_of_at') }} <= purchases.purchased_at
),

purchase_features as (
    select
        snapshot_name,
        customer_id,
        min(as_of_at) as as_of_at,
        min(days_before) as recency_days,
        max(days_before) as first_purchase_days,
        count(*) as purchases_lookback,
        count(*) filter (where days_before < 90) as purchases_90d,
        count(*) filter (where days_before < 30) as purchases_30d,
        count(*) filter (where purchase_channel = 'store') as store_purchases_lookback,
        sum(is_refunded) as refunds_lookback,
        sum(paid_amount) as spend_lookback,
        coalesce(sum(paid_amount) filter (where days_before < 90), 0) as spend_90d
    from purchases_before
    group by snapshot_name, customer_id
),

event_features as (
    select
        purchase_features.snapshot_name,
        purchase_features.customer_id,
        count(*) filter (where events.source_name = 'web_events') as web_events_30d,
        count(*) filter (where events.source_name = 'app_events') as app_events_30d
    from purchase_features
    inner join events
        on
            purchase_features.customer_id = events.customer_id
            and purchase_features.as_of_at > events.event_at
            and {{ dbt.dateadd('day', -30, 'purchase_features.as_of_at') }} <= events.event_at
    group by purchase_features.snapshot_name, purchase_features.customer_id
),

-- Identifiers the customer was known by before the snapshot.
identifier_features as (
    select
        purchase_features.snapshot_name,
        purchase_features.customer_id,
        max(case when identities.identifier_type = 'member_id' then 1 else 0 end) as is_member,
        max(case when identities.identifier_type = 'device_id' then 1 else 0 end) as has_app,
        max(case when identities.identifier_type = 'openid' then 1 else 0 end) as has_wechat
    from purchase_features
    inner join identities
        on
            purchase_features.customer_id = identities.customer_id
            and purchase_features.as_of_at > identities.first_seen_at
    group by purchase_features.snapshot_name, purchase_features.customer_id
),

-- What happened from the snapshot on: the labels.
purchases_after as (
    select
        purchase_features.snapshot_name,
        purchase_features.customer_id,
        count(*) filter (
            where purchases.purchased_at < {{ dbt.dateadd('day', purchase_horizon, 'purchase_features.as_of_at') }}
        ) as purchases_next_purchase_horizon,
        count(*) as purchases_next_churn_horizon
    from purchase_features
    inner join purchases
        on
            purchase_features.customer_id = purchases.customer_id
            and purchase_features.as_of_at <= purchases.purchased_at
            and {{ dbt.dateadd('day', horizon, 'purchase_features.as_of_at') }} > purchases.purchased_at
    where purchase_features.snapshot_name <> 'scoring'
    group by purchase_features.snapshot_name, purchase_features.customer_id
),

final as (
    select
        cast(purchase_features.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(purchase_features.snapshot_name as {{ dbt.type_string() }}) as snapshot_name,
        cast(purchase_features.as_of_at as {{ dbt.type_timestamp() }}) as as_of_at,
        cast(purchase_features.recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(purchase_features.first_purchase_days as {{ dbt.type_int() }}) as first_purchase_days,
        cast(purchase_features.purchases_lookback as {{ dbt.type_int() }}) as purchases_lookback,
        cast(purchase_features.purchases_90d as {{ dbt.type_int() }}) as purchases_90d,
        cast(purchase_features.purchases_30d as {{ dbt.type_int() }}) as purchases_30d,
        cast(purchase_features.store_purchases_lookback as {{ dbt.type_int() }}) as store_purchases_lookback,
        cast(purchase_features.refunds_lookback as {{ dbt.type_int() }}) as refunds_lookback,
        cast(purchase_features.spend_lookback as {{ dbt.type_numeric() }}) as spend_lookback,
        cast(purchase_features.spend_90d as {{ dbt.type_numeric() }}) as spend_90d,
        cast(coalesce(event_features.web_events_30d, 0) as {{ dbt.type_int() }}) as web_events_30d,
        cast(coalesce(event_features.app_events_30d, 0) as {{ dbt.type_int() }}) as app_events_30d,
        coalesce(identifier_features.is_member, 0) = 1 as is_member,
        coalesce(identifier_features.has_app, 0) = 1 as has_app,
        coalesce(identifier_features.has_wechat, 0) = 1 as has_wechat,
        case
            when purchase_features.snapshot_name <> 'scoring'
                then coalesce(purchases_after.purchases_next_purchase_horizon, 0) > 0
        end as has_purchase_after,
        case
            when purchase_features.snapshot_name <> 'scoring'
                then coalesce(purchases_after.purchases_next_churn_horizon, 0) = 0
        end as is_churned_after
    from purchase_features
    left join event_features
        on
            purchase_features.snapshot_name = event_features.snapshot_name
            and purchase_features.customer_id = event_features.customer_id
    left join identifier_features
        on
            purchase_features.snapshot_name = identifier_features.snapshot_name
            and purchase_features.customer_id = identifier_features.customer_id
    left join purchases_after
        on
            purchase_features.snapshot_name = purchases_after.snapshot_name
            and purchase_features.customer_id = purchases_after.customer_id
)

select * from final
