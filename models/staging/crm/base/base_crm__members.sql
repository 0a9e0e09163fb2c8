{{ config(unique_key='member_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = normalize_identifier('member_id', 'member_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'member_id', 'when': 'member_id is null'},
    {'reason': 'unknown_enum', 'column': 'gender'},
    {'reason': 'unknown_enum', 'column': 'register_channel'},
    {'reason': 'unknown_enum', 'column': 'loyalty_tier'},
    {'reason': 'invalid_value', 'column': 'birth_date'},
    {'reason': 'invalid_value', 'column': 'registered_at'},
    {'reason': 'invalid_value', 'column': 'updated_at'},
    {'reason': 'future_timestamp', 'column': 'birth_date', 'when': is_future('birth_date')},
    {'reason': 'implausible_date', 'column': 'birth_date', 'when': is_implausible_birth_date('birth_date')},
    {'reason': 'future_timestamp', 'column': 'registered_at', 'when': is_future('registered_at')},
    {'reason': 'implausible_date', 'column': 'registered_at', 'when': is_implausible('registered_at')},
    {'reason': 'future_timestamp', 'column': 'updated_at', 'when': is_future('updated_at')},
    {'reason': 'implausible_date', 'column': 'updated_at', 'when': is_implausible('updated_at')},
] -%}

with

source as (
    {{ changed_rows(source('crm', 'members'), key) }}
),

typed as (
    select
        {{ clean_text('member_id') }} as record_key,
        {{ key }} as member_id,
        {{ normalize_identifier('mobile', 'mobile') }} as mobile,
        {{ normalize_identifier('email', 'email') }} as email,
        {{ normalize_identifier('member_card_no', 'member_card_no') }} as member_card_no,
        {{ clean_text('full_name') }} as full_name,
        {{ map_enum('gender', 'gender') }} as gender,
        {{ parse_date('birth_date') }} as birth_date,
        {{ clean_text('province') }} as province,
        {{ clean_text('city') }} as city,
        {{ map_enum('register_channel', 'register_channel') }} as register_channel,
        {{ map_enum('loyalty_tier', 'loyalty_tier') }} as loyalty_tier,
        {{ parse_timestamp_utc('registered_at') }} as registered_at,
        {{ parse_timestamp_utc('updated_at') }} as updated_at,
        {{ raw_columns(['mobile', 'email', 'member_card_no', 'gender', 'birth_date',
            'register_channel', 'loyalty_tier', 'registered_at', 'updated_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['member_id'], 'updated_at') }}

select * from ranked
