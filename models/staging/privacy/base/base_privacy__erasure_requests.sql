{{ config(unique_key='request_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = clean_text('request_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'request_id', 'when': 'request_id is null'},
    {'reason': 'unknown_enum', 'column': 'identifier_type'},
    {'reason': 'missing_value', 'column': 'identifier_value', 'when': 'raw_identifier_value is null'},
    {'reason': 'invalid_value', 'column': 'identifier_value'},
    {'reason': 'missing_value', 'column': 'requested_at', 'when': 'raw_requested_at is null'},
    {'reason': 'invalid_value', 'column': 'requested_at'},
    {'reason': 'future_timestamp', 'column': 'requested_at', 'when': is_future('requested_at')},
    {'reason': 'implausible_date', 'column': 'requested_at', 'when': is_implausible('requested_at')},
] -%}

with

source as (
    {{ changed_rows(source('privacy', 'erasure_requests'), key) }}
),

typed as (
    select
        {{ clean_text('request_id') }} as record_key,
        {{ key }} as request_id,
        {{ map_enum('identifier_type', 'identifier_type') }} as identifier_type,
        {{ normalize_identifier_by_type('identifier_type', 'identifier_value') }} as identifier_value,
        {{ parse_timestamp_utc('requested_at') }} as requested_at,
        {{ raw_columns(['identifier_type', 'identifier_value', 'requested_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['request_id']) }}

select * from ranked
