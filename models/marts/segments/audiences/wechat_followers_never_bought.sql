{#- Conversion: customers who follow the WeChat official account and never bought. -#}
{{ config(meta={
    'segment_id': 'wechat_followers_never_bought',
    'description': 'WeChat followers who never bought: conversion.',
    'owner': 'social-team',
    'channel': 'wechat',
}) }}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

metrics as (
    select * from {{ ref('customer_metrics') }}
),

final as (
    select profiles.customer_id
    from profiles
    inner join metrics on profiles.customer_id = metrics.customer_id
    where profiles.is_wechat_follower and metrics.order_count = 0
)

select * from final
