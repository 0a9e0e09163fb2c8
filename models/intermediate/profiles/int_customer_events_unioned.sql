{#- Every web and app behaviour event of a known customer, in one shape: browsing, carts,
    app opens. Tags (app active in 30 days) and segments (browsed but never bought,
    carted without ordering) read it. -#}

with

web_events as (
    select * from {{ ref('stg_web__events') }}
),

app_events as (
    select * from {{ ref('stg_app__events') }}
),

records as (
    select * from {{ ref('int_profile_records_resolved') }}
),

unioned as (
    select
        event_id,
        'web_events' as source_name,
        event_type,
        event_at
    from web_events
    union all
    select
        event_id,
        'app_events' as source_name,
        event_type,
        event_at
    from app_events
),

final as (
    select
        cast(unioned.event_id as {{ dbt.type_string() }}) as event_id,
        cast(unioned.source_name as {{ dbt.type_string() }}) as source_name,
        cast(records.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(unioned.event_type as {{ dbt.type_string() }}) as event_type,
        cast(unioned.event_at as {{ dbt.type_timestamp() }}) as event_at
    from unioned
    inner join records
        on
            unioned.source_name = records.source_name
            and unioned.event_id = records.record_key
)

select * from final
