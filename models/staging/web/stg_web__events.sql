with

base as (
    select * from {{ ref('base_web__events') }}
),

staged as (
    select
        event_id,
        anonymous_id,
        member_id,
        event_type,
        page_url,
        referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        event_at,
        received_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
