with

base as (
    select * from {{ ref('base_crm__members') }}
),

staged as (
    select
        member_id,
        mobile,
        email,
        member_card_no,
        full_name,
        coalesce(gender, 'U') as gender,
        birth_date,
        province,
        city,
        register_channel,
        loyalty_tier,
        registered_at,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
