with

base as (
    select * from {{ ref('base_wechat__followers') }}
),

staged as (
    select
        openid,
        unionid,
        mobile,
        nickname,
        subscribed as is_subscribed,
        subscribed_at,
        unsubscribed_at,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at,
        _built_at as built_at
    from base
    where quarantine_reason is null and dedupe_rank = 1
)

select * from staged
