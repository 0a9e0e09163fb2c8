{#- Who is in which segment now, and since when: the open rows of the
    segment_membership_history snapshot (entered_at = when the build first saw them in). -#}

with

history as (
    select * from {{ ref('segment_membership_history') }}
),

final as (
    select
        cast(segment_id as {{ dbt.type_string() }}) as segment_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(dbt_valid_from as {{ dbt.type_timestamp() }}) as entered_at
    from history
    where dbt_valid_to is null
)

select * from final
