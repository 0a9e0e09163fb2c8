with

base as (
    select * from {{ ref('base_privacy__erasure_requests') }}
),

staged as (
    select
        request_id,
        identifier_type,
        identifier_value,
        requested_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
