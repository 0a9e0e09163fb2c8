{#- Customer x category: what each customer buys online, paid orders only: spend, items,
    orders, recency and the category's share of the customer's spend. -#}

with

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
    where source_name = 'shop_orders' and is_purchase and customer_id is not null
),

as_of as (
    select * from {{ ref('int_profile_as_of') }}
),

per_category as (
    select
        orders.customer_id,
        order_items.category,
        sum(order_items.line_amount) as spend_cny,
        sum(order_items.quantity) as items,
        count(distinct orders.order_id) as orders,
        max(orders.ordered_at) as last_purchased_at
    from orders
    inner join order_items on orders.order_id = order_items.order_id
    group by orders.customer_id, order_items.category
),

shares as (
    select
        *,
        sum(spend_cny) over (partition by customer_id) as customer_spend_cny
    from per_category
),

final as (
    select
        cast(shares.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(shares.category as {{ dbt.type_string() }}) as category,
        cast(shares.spend_cny as numeric(18, 2)) as spend_cny,
        cast(shares.items as {{ dbt.type_bigint() }}) as items,
        cast(shares.orders as {{ dbt.type_bigint() }}) as orders,
        cast(shares.last_purchased_at as {{ dbt.type_timestamp() }}) as last_purchased_at,
        cast({{ tianwen.days_between(
            "cast(shares.last_purchased_at as date)",
            "as_of.as_of_date"
        ) }} as {{ dbt.type_int() }})
            as days_since_last_purchase,
        case
            when shares.customer_spend_cny > 0
                then {{ tianwen.divide_rounded('shares.spend_cny * 100', 'shares.customer_spend_cny * 100', 4) }}
        end as spend_share
    from shares
    cross join as_of
)

select * from final
