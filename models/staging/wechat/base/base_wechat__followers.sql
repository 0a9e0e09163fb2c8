{{ config(unique_key='openid') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = normalize_identifier('openid', 'openid') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'openid', 'when': 'openid is null'},
    {'reason': 'invalid_value', 'column': 'subscribed'},
    {'reason': 'invalid_value', 'column': 'subscribed_at'},
    {'reason': 'invalid_value', 'column': 'unsubscribed_at'},
    {'reason': 'invalid_value', 'column': 'updated_at'},
    {'reason': 'future_timestamp', 'column': 'subscribed_at', 'when': is_future('subscribed_at')},
    {'reason': 'implausible_date', 'column': 'subscribed_at', 'when': is_implausible('subscribed_at')},
    {'reason': 'future_timestamp', 'column': 'updated_at', 'when': is_future('updated_at')},
    {'reason': 'implausible_date', 'column': 'updated_at', 'when': is_implausible('updated_at')},
] -%}

with

source as (
    {{ changed_rows(source('wechat', 'followers'), key) }}
),

typed as (
    select
        {{ clean_text('openid') }} as record_key,
        {{ key }} as openid,
        {{ normalize_identifier('unionid', 'unionid') }} as unionid,
        {{ normalize_identifier('mobile', 'mobile') }} as mobile,
        {{ clean_text('nickname') }} as nickname,
        {{ parse_boolean('subscribed') }} as subscribed,
        {{ parse_timestamp_utc('subscribed_at') }} as subscribed_at,
        {{ parse_timestamp_utc('unsubscribed_at') }} as unsubscribed_at,
        {{ parse_timestamp_utc('updated_at') }} as updated_at,
        {{ raw_columns(['unionid', 'mobile', 'subscribed', 'subscribed_at', 'unsubscribed_at',
            'updated_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['openid'], 'updated_at') }}

select * from ranked
