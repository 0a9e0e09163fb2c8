{#- One row per segment per build (incremental, appended): members, entries and exits, with
    the segment's meta, for monitoring audiences over time. -#}
{{ config(materialized='incremental', unique_key=['run_id', 'segment_id']) }}
{%- set metas = tianwen.segment_meta() %}

with

memberships as (
    select * from {{ ref('segment_memberships') }}
),

events as (
    select * from {{ ref('segment_membership_events') }}
),

segments as (
    {%- for meta in metas %}
    select
        '{{ meta.segment_id }}' as segment_id,
        {{ tianwen.sql_literal(meta.description) }} as description,
        '{{ meta.owner }}' as owner_team,
        '{{ meta.channel }}' as channel
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not metas %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_id,
        cast(null as {{ dbt.type_string() }}) as description,
        cast(null as {{ dbt.type_string() }}) as owner_team,
        cast(null as {{ dbt.type_string() }}) as channel
    where 1 = 0
    {%- endif %}
),

members as (
    select
        segment_id,
        count(*) as members
    from memberships
    group by segment_id
),

-- the latest snapshot instant is this build's: entries and exits it recorded
latest as (
    select max(event_at) as event_at from events
),

changes as (
    select
        events.segment_id,
        count(case when events.event_type = 'entered' then 1 end) as entered,
        count(case when events.event_type = 'exited' then 1 end) as exited
    from events
    inner join latest on events.event_at = latest.event_at
    group by events.segment_id
),

final as (
    select
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as run_id,
        {{ run_timestamp() }} as computed_at,
        cast(segments.segment_id as {{ dbt.type_string() }}) as segment_id,
        cast(segments.description as {{ dbt.type_string() }}) as description,
        cast(segments.owner_team as {{ dbt.type_string() }}) as owner_team,
        cast(segments.channel as {{ dbt.type_string() }}) as channel,
        cast(coalesce(members.members, 0) as {{ dbt.type_bigint() }}) as members,
        cast(coalesce(changes.entered, 0) as {{ dbt.type_bigint() }}) as entered,
        cast(coalesce(changes.exited, 0) as {{ dbt.type_bigint() }}) as exited
    from segments
    left join members on segments.segment_id = members.segment_id
    left join changes on segments.segment_id = changes.segment_id
)

select * from final
