{{ config(unique_key='event_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = clean_text('event_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'event_id', 'when': 'event_id is null'},
    {'reason': 'unknown_enum', 'column': 'event_type'},
    {'reason': 'missing_value', 'column': 'event_at', 'when': 'raw_event_at is null'},
    {'reason': 'invalid_value', 'column': 'event_at'},
    {'reason': 'invalid_value', 'column': 'received_at'},
    {'reason': 'future_timestamp', 'column': 'event_at', 'when': is_future('event_at')},
    {'reason': 'implausible_date', 'column': 'event_at', 'when': is_implausible('event_at')},
] -%}

with

source as (
    {{ changed_rows(source('web', 'events'), key) }}
),

typed as (
    select
        {{ clean_text('event_id') }} as record_key,
        {{ key }} as event_id,
        {{ normalize_identifier('anonymous_id', 'anonymous_id') }} as anonymous_id,
        {{ normalize_identifier('member_id', 'member_id') }} as member_id,
        {{ map_enum('event_type', 'web_event_type') }} as event_type,
        {{ clean_text('page_url') }} as page_url,
        {{ clean_text('referrer') }} as referrer,
        {{ clean_text('utm_source') }} as utm_source,
        {{ clean_text('utm_medium') }} as utm_medium,
        {{ clean_text('utm_campaign') }} as utm_campaign,
        {{ parse_timestamp_utc('event_at') }} as event_at,
        {{ parse_timestamp_utc('received_at') }} as received_at,
        {{ raw_columns(['anonymous_id', 'member_id', 'event_type', 'event_at', 'received_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['event_id']) }}

select * from ranked
