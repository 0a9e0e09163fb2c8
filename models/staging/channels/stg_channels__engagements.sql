with

base as (
    select * from {{ ref('base_channels__engagements') }}
),

staged as (
    select
        event_id,
        channel,
        campaign_id,
        identifier_type,
        identifier_value,
        event_type,
        event_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
