with

base as (
    select * from {{ ref('base_pos__transactions') }}
),

staged as (
    select
        txn_id,
        store_id,
        mobile,
        member_card_no,
        amount,
        payment_method,
        txn_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
