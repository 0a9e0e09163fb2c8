{#- Every change of customer_id seen between builds, from customer_identity_history: when
    an identifier moved from one customer to another. A merge is an old id none of whose
    identifiers kept it; a split is an old id that lives on for some of its identifiers.
    Channels and downstream systems follow old ids to new ones here. -#}

with

history as (
    select * from {{ ref('customer_identity_history') }}
),

current_ids as (
    select distinct customer_id from {{ ref('int_identity_assignments') }}
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
            and successor.dbt_valid_from = closed.changed_at
    where successor.customer_id <> closed.old_customer_id
),

final as (
    select
        cast(moved.old_customer_id as {{ dbt.type_string() }}) as old_customer_id,
        cast(moved.new_customer_id as {{ dbt.type_string() }}) as new_customer_id,
        cast(moved.changed_at as {{ dbt.type_timestamp() }}) as merged_at,
        cast(
            case when current_ids.customer_id is null then 'merge' else 'split' end
            as {{ dbt.type_string() }}
        ) as reason,
        cast(count(*) as {{ dbt.type_bigint() }}) as identifiers_moved
    from moved
    left join current_ids on moved.old_customer_id = current_ids.customer_id
    group by moved.old_customer_id, moved.new_customer_id, moved.changed_at, current_ids.customer_id
)

select * from final
