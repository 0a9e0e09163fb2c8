{{ config(unique_key='event_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = clean_text('event_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'event_id', 'when': 'event_id is null'},
    {'reason': 'unknown_enum', 'column': 'event_type'},
    {'reason': 'unknown_enum', 'column': 'os'},
    {'reason': 'missing_value', 'column': 'event_at', 'when': 'raw_event_at is null'},
    {'reason': 'invalid_value', 'column': 'event_at'},
    {'reason': 'invalid_value', 'column': 'received_at'},
    {'reason': 'future_timestamp', 'column': 'event_at', 'when': is_future('event_at')},
    {'reason': 'implausible_date', 'column': 'event_at', 'when': is_implausible('event_at')},
] -%}

with

source as (
    {{ changed_rows(source('app', 'events'), key) }}
),

typed as (
    select
        {{ clean_text('event_id') }} as record_key,
        {{ key }} as event_id,
        {{ normalize_identifier('device_id', 'device_id') }} as device_id,
        {{ normalize_identifier('idfa', 'idfa') }} as idfa,
        {{ normalize_identifier('imei', 'imei') }} as imei,
        {{ normalize_identifier('oaid', 'oaid') }} as oaid,
        {{ normalize_identifier('member_id', 'member_id') }} as member_id,
        {{ normalize_identifier('mobile', 'mobile') }} as mobile,
        {{ map_enum('event_type', 'app_event_type') }} as event_type,
        {{ map_enum('os', 'os') }} as os,
        {{ clean_text('app_version') }} as app_version,
        {{ parse_timestamp_utc('event_at') }} as event_at,
        {{ parse_timestamp_utc('received_at') }} as received_at,
        {{ raw_columns(['device_id', 'idfa', 'imei', 'oaid', 'member_id', 'mobile',
            'event_type', 'os', 'event_at', 'received_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['event_id']) }}

select * from ranked
