with

base as (
    select * from {{ ref('base_app__events') }}
),

staged as (
    select
        event_id,
        device_id,
        idfa,
        imei,
        oaid,
        member_id,
        mobile,
        event_type,
        os,
        app_version,
        event_at,
        received_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
