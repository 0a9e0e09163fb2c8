{#- Every change of customer_id seen between builds, from customer_identity_history: when
    an identifier moved from one customer to another. A merge: all of an old id's moving
    identifiers went to one new id and the old id is gone. A split: they went to several
    new ids, or the old id lives on for some identifiers (after a rule change, say).
    Channels and downstream systems follow old ids to new ones here. -#}

with

history as (
    select * from {{ ref('customer_identity_history') }}
),

closed as (
    select
        node_key,
        customer_id as old_customer_id,
        dbt_valid_to as changed_at
    from history
    where dbt_valid_to is not null
),

moved as (
    select
        closed.old_customer_id,
        successor.customer_id as new_customer_id,
        closed.changed_at
    from closed
    inner join history as successor
        on
            closed.node_key = successor.node_key
            and closed.changed_at = successor.dbt_valid_from
    where successor.customer_id <> closed.old_customer_id
),

-- old ids still held by some identifier right after the change
living as (
    select distinct
        moved.old_customer_id,
        moved.changed_at
    from moved
    inner join history
        on
            moved.old_customer_id = history.customer_id
            and moved.changed_at >= history.dbt_valid_from
            and (history.dbt_valid_to is null or moved.changed_at < history.dbt_valid_to)
),

changes as (
    select
        moved.old_customer_id,
        moved.changed_at,
        count(distinct moved.new_customer_id) as successors,
        max(case when living.old_customer_id is null then 0 else 1 end) as old_id_lives_on
    from moved
    left join living
        on
            moved.old_customer_id = living.old_customer_id
            and moved.changed_at = living.changed_at
    group by moved.old_customer_id, moved.changed_at
),

final as (
    select
        cast(moved.old_customer_id as {{ dbt.type_string() }}) as old_customer_id,
        cast(moved.new_customer_id as {{ dbt.type_string() }}) as new_customer_id,
        cast(moved.changed_at as {{ dbt.type_timestamp() }}) as merged_at,
        cast(
            case when changes.successors > 1 or changes.old_id_lives_on = 1 then 'split' else 'merge' end
            as {{ dbt.type_string() }}
        ) as reason,
        cast(count(*) as {{ dbt.type_bigint() }}) as identifiers_moved
    from moved
    inner join changes
        on
            moved.old_customer_id = changes.old_customer_id
            and moved.changed_at = changes.changed_at
    group by
        moved.old_customer_id,
        moved.new_customer_id,
        moved.changed_at,
        changes.successors,
        changes.old_id_lives_on
)

select * from final
