{#- One row per product (sku) sold online: its category, price band, units, orders,
    buyers and net sales in CNY, from the order lines of paid orders. Store tills send no
    lines (only a ticket total), so store sales are in stores, not here. -#}

with

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
    where source_name = 'shop_orders'
),

lines as (
    select
        order_items.sku,
        order_items.category,
        order_items.quantity,
        order_items.line_amount,
        orders.order_id,
        orders.customer_id,
        orders.ordered_at
    from order_items
    inner join orders on order_items.order_id = orders.order_id
    where orders.is_purchase
),

-- a sku sold under several categories takes the one it was sold under most
categories as (
    select
        sku,
        category,
        row_number() over (partition by sku order by count(*) desc, category) as category_rank
    from lines
    group by sku, category
),

sales as (
    select
        sku,
        sum(quantity) as units_sold,
        count(distinct order_id) as orders,
        count(distinct customer_id) as buyers,
        sum(line_amount) as net_sales_cny,
        min(ordered_at) as first_sold_at,
        max(ordered_at) as last_sold_at
    from lines
    group by sku
),

priced as (
    select
        sales.*,
        categories.category,
        {{ tianwen.divide_rounded('sales.net_sales_cny * 100', 'sales.units_sold * 100') }} as average_unit_price
    from sales
    inner join categories on sales.sku = categories.sku and categories.category_rank = 1
),

final as (
    select
        cast(sku as {{ dbt.type_string() }}) as sku,
        cast(category as {{ dbt.type_string() }}) as category,
        average_unit_price,
        cast(
            case
                when average_unit_price < {{ var('price_band_mid_cny', 50) }} then 'budget'
                when average_unit_price < {{ var('price_band_premium_cny', 150) }} then 'mid'
                when average_unit_price < {{ var('price_band_luxury_cny', 400) }} then 'premium'
                else 'luxury'
            end
            as {{ dbt.type_string() }}
        ) as price_band,
        cast(units_sold as {{ dbt.type_bigint() }}) as units_sold,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(buyers as {{ dbt.type_bigint() }}) as buyers,
        cast(net_sales_cny as numeric(18, 2)) as net_sales_cny,
        cast(first_sold_at as {{ dbt.type_timestamp() }}) as first_sold_at,
        cast(last_sold_at as {{ dbt.type_timestamp() }}) as last_sold_at
    from priced
)

select * from final
