{{ config(unique_key='event_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = clean_text('event_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'event_id', 'when': 'event_id is null'},
    {'reason': 'unknown_enum', 'column': 'channel'},
    {'reason': 'unknown_enum', 'column': 'event_type'},
    {'reason': 'unknown_enum', 'column': 'identifier_type'},
    {'reason': 'invalid_value', 'column': 'identifier_value'},
    {'reason': 'missing_value', 'column': 'event_at', 'when': 'raw_event_at is null'},
    {'reason': 'invalid_value', 'column': 'event_at'},
    {'reason': 'future_timestamp', 'column': 'event_at', 'when': is_future('event_at')},
    {'reason': 'implausible_date', 'column': 'event_at', 'when': is_implausible('event_at')},
] -%}

with

source as (
    {{ changed_rows(source('channels', 'engagements'), key) }}
),

typed as (
    select
        {{ clean_text('event_id') }} as record_key,
        {{ key }} as event_id,
        {{ map_enum('channel', 'engagement_channel') }} as channel,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ map_enum('identifier_type', 'identifier_type') }} as identifier_type,
        {{ normalize_identifier_by_type('identifier_type', 'identifier_value') }} as identifier_value,
        {{ map_enum('event_type', 'engagement_event_type') }} as event_type,
        {{ parse_timestamp_utc('event_at') }} as event_at,
        {{ raw_columns(['channel', 'identifier_type', 'identifier_value', 'event_type',
            'event_at']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['event_id']) }}

select * from ranked
