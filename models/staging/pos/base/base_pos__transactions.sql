{{ config(unique_key='txn_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = clean_text('txn_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'txn_id', 'when': 'txn_id is null'},
    {'reason': 'invalid_value', 'column': 'amount'},
    {'reason': 'impossible_value', 'column': 'amount',
        'when': 'amount < 0 or amount > ' ~ var('max_amount')},
    {'reason': 'missing_value', 'column': 'txn_at', 'when': 'raw_txn_at is null'},
    {'reason': 'invalid_value', 'column': 'txn_at'},
    {'reason': 'future_timestamp', 'column': 'txn_at', 'when': is_future('txn_at')},
    {'reason': 'implausible_date', 'column': 'txn_at', 'when': is_implausible('txn_at')},
] -%}

with

source as (
    {{ changed_rows(source('pos', 'transactions'), key) }}
),

typed as (
    select
        {{ clean_text('txn_id') }} as record_key,
        {{ key }} as txn_id,
        {{ clean_text('store_id') }} as store_id,
        {{ normalize_identifier('mobile', 'mobile') }} as mobile,
        {{ normalize_identifier('member_card_no', 'member_card_no') }} as member_card_no,
        {{ parse_decimal('amount') }} as amount,
        lower({{ clean_text('payment_method') }}) as payment_method,
        {{ parse_timestamp_utc('txn_at') }} as txn_at,
        {{ raw_columns(['mobile', 'member_card_no', 'amount', 'txn_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['txn_id']) }}

select * from ranked
