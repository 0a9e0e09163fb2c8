{#- Every order, online (shop) and offline (store tills), in one shape with its customer:
    the fact table behind lifetime value, RFM, products, stores and segments. Refunded and
    cancelled orders are kept but count for nothing (net_amount_cny = 0, is_purchase false).
    Money is in CNY: an order with no currency is CNY (the shop's own currency); another
    currency has no CNY amount and is left out of money, never silently summed. -#}

with

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

pos_transactions as (
    select * from {{ ref('stg_pos__transactions') }}
),

records as (
    select * from {{ ref('int_profile_records_resolved') }}
),

unioned as (
    select
        order_id,
        'shop_orders' as source_name,
        channel,
        cast(null as {{ dbt.type_string() }}) as store_id,
        status,
        case when coalesce(currency, 'CNY') = 'CNY' then amount end as amount_cny,
        ordered_at
    from shop_orders
    union all
    select
        txn_id as order_id,
        'pos_transactions' as source_name,
        'store' as channel,
        store_id,
        'paid' as status,
        amount as amount_cny,
        txn_at as ordered_at
    from pos_transactions
),

final as (
    select
        cast(unioned.order_id as {{ dbt.type_string() }}) as order_id,
        cast(unioned.source_name as {{ dbt.type_string() }}) as source_name,
        cast(records.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(unioned.channel as {{ dbt.type_string() }}) as channel,
        cast(unioned.store_id as {{ dbt.type_string() }}) as store_id,
        cast(unioned.status as {{ dbt.type_string() }}) as status,
        unioned.status = 'paid' as is_purchase,
        cast(unioned.amount_cny as {{ dbt.type_numeric() }}) as amount_cny,
        cast(
            case when unioned.status = 'paid' then unioned.amount_cny else 0 end
            as {{ dbt.type_numeric() }}
        ) as net_amount_cny,
        cast(unioned.ordered_at as {{ dbt.type_timestamp() }}) as ordered_at
    from unioned
    left join records
        on
            unioned.source_name = records.source_name
            and unioned.order_id = records.record_key
)

select * from final
