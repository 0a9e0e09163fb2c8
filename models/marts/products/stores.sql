{#- One row per store: till visits (transactions), identified customers, net sales in CNY,
    average ticket and first and last sale. -#}

with

orders as (
    select * from {{ ref('int_orders_unioned') }}
    where source_name = 'pos_transactions'
),

stats as (
    select
        store_id,
        count(*) as visits,
        count(customer_id) as identified_visits,
        count(distinct customer_id) as customers,
        sum(net_amount_cny) as net_sales_cny,
        min(ordered_at) as first_sale_at,
        max(ordered_at) as last_sale_at
    from orders
    group by store_id
),

final as (
    select
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        cast(visits as {{ dbt.type_bigint() }}) as visits,
        cast(identified_visits as {{ dbt.type_bigint() }}) as identified_visits,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(net_sales_cny as numeric(18, 2)) as net_sales_cny,
        {{ tianwen.divide_rounded('net_sales_cny * 100', 'visits * 100') }} as average_ticket_cny,
        cast(first_sale_at as {{ dbt.type_timestamp() }}) as first_sale_at,
        cast(last_sale_at as {{ dbt.type_timestamp() }}) as last_sale_at
    from stats
)

select * from final
