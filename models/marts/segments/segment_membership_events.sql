{#- Every entry into and exit from a segment, from the segment_membership_history
    snapshot: a customer merged into another exits under the old id and enters under the
    surviving one. -#}

with

history as (
    select * from {{ ref('segment_membership_history') }}
),

events as (
    select
        segment_id,
        customer_id,
        'entered' as event_type,
        dbt_valid_from as event_at
    from history
    union all
    select
        segment_id,
        customer_id,
        'exited' as event_type,
        dbt_valid_to as event_at
    from history
    where dbt_valid_to is not null
),

final as (
    select
        cast(segment_id as {{ dbt.type_string() }}) as segment_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(event_at as {{ dbt.type_timestamp() }}) as event_at
    from events
)

select * from final
