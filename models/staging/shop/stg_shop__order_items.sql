with

base as (
    select * from {{ ref('base_shop__order_items') }}
),

staged as (
    select
        record_key as order_item_id,
        order_id,
        line_no,
        sku,
        category,
        quantity,
        unit_price,
        cast(quantity * unit_price as {{ dbt.type_numeric() }}) as line_amount,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
