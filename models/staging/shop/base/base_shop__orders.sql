{{ config(unique_key='order_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = clean_text('order_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'order_id', 'when': 'order_id is null'},
    {'reason': 'unknown_enum', 'column': 'channel'},
    {'reason': 'unknown_enum', 'column': 'status'},
    {'reason': 'unknown_enum', 'column': 'currency',
        'when': "currency is not null and not " ~ tianwen.regexp_like('currency', "'^[A-Z]{3}$'")},
    {'reason': 'invalid_value', 'column': 'amount'},
    {'reason': 'impossible_value', 'column': 'amount',
        'when': 'amount < 0 or amount > ' ~ var('max_amount')},
    {'reason': 'missing_value', 'column': 'ordered_at', 'when': 'raw_ordered_at is null'},
    {'reason': 'invalid_value', 'column': 'ordered_at'},
    {'reason': 'invalid_value', 'column': 'updated_at'},
    {'reason': 'future_timestamp', 'column': 'ordered_at', 'when': is_future('ordered_at')},
    {'reason': 'implausible_date', 'column': 'ordered_at', 'when': is_implausible('ordered_at')},
    {'reason': 'future_timestamp', 'column': 'updated_at', 'when': is_future('updated_at')},
    {'reason': 'implausible_date', 'column': 'updated_at', 'when': is_implausible('updated_at')},
] -%}

with

source as (
    {{ changed_rows(source('shop', 'orders'), key) }}
),

typed as (
    select
        {{ clean_text('order_id') }} as record_key,
        {{ key }} as order_id,
        {{ normalize_identifier('member_id', 'member_id') }} as member_id,
        {{ normalize_identifier('mobile', 'mobile') }} as mobile,
        {{ normalize_identifier('email', 'email') }} as email,
        {{ normalize_identifier('device_id', 'device_id') }} as device_id,
        {{ map_enum('channel', 'order_channel') }} as channel,
        {{ map_enum('status', 'order_status') }} as status,
        {{ parse_decimal('amount') }} as amount,
        upper(coalesce({{ clean_text('currency') }}, 'CNY')) as currency,
        {{ parse_timestamp_utc('ordered_at') }} as ordered_at,
        {{ parse_timestamp_utc('updated_at') }} as updated_at,
        {{ raw_columns(['member_id', 'mobile', 'email', 'device_id', 'channel', 'status',
            'amount', 'ordered_at', 'updated_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['order_id'], 'updated_at') }}

select * from ranked
