with

base as (
    select * from {{ ref('base_shop__orders') }}
),

staged as (
    select
        order_id,
        member_id,
        mobile,
        email,
        device_id,
        channel,
        status,
        amount,
        currency,
        ordered_at,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
