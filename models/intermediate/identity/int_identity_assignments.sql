{#- Every identity node's customer. A component merges as one customer unless it is
    suspicious: larger than vars.identity_max_component_size, or holding two values of a
    type a person holds once (two member ids, two unionids). Such a component is not
    merged blindly: each identifier joins the one unique identifier (member_id, unionid)
    it is directly linked to, or stays alone. customer_id is a hash of the customer's
    earliest-seen identifier (ties: priority, then key), so a rebuild gives the same ids and
    a merge keeps the older id. -#}

with

nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

labelled as (
    select
        nodes.*,
        components.component_key
    from nodes
    inner join components on nodes.node_key = components.node_key
),

unique_type_counts as (
    select
        component_key,
        identifier_type,
        count(*) as unique_values
    from labelled
    where is_unique_per_person
    group by component_key, identifier_type
),

component_sizes as (
    select
        component_key,
        count(*) as component_size
    from labelled
    group by component_key
),

suspicious as (
    select
        component_sizes.component_key,
        component_sizes.component_size,
        case
            when component_sizes.component_size > {{ var('identity_max_component_size') }}
                then 'component_too_large'
            else 'component_holds_two_unique_ids'
        end as rule_broken
    from component_sizes
    where
        component_sizes.component_size > {{ var('identity_max_component_size') }}
        or component_sizes.component_key in (
            select unique_type_counts.component_key from unique_type_counts
            where unique_type_counts.unique_values > 1
        )
),

suspicious_nodes as (
    select labelled.*
    from labelled
    inner join suspicious on labelled.component_key = suspicious.component_key
),

neighbours as (
    select
        node_a as node_key,
        node_b as neighbour_key
    from edges
    union all
    select
        node_b as node_key,
        node_a as neighbour_key
    from edges
),

-- In a suspicious component, the unique identifiers each identifier is directly linked to.
direct_unique as (
    select
        neighbours.node_key,
        min(neighbours.neighbour_key) as unique_key,
        count(distinct neighbours.neighbour_key) as unique_links
    from neighbours
    inner join suspicious_nodes as neighbour on neighbours.neighbour_key = neighbour.node_key
    where neighbour.is_unique_per_person
    group by neighbours.node_key
),

grouped as (
    select
        labelled.*,
        suspicious.rule_broken,
        case
            when suspicious.component_key is null then labelled.component_key
            when labelled.is_unique_per_person then labelled.node_key
            when direct_unique.unique_links = 1 then direct_unique.unique_key
            else labelled.node_key
        end as group_key
    from labelled
    left join suspicious on labelled.component_key = suspicious.component_key
    left join direct_unique on labelled.node_key = direct_unique.node_key
),

-- the founding identifier of each customer: the earliest seen (then priority, then key)
founded as (
    select
        *,
        first_value(node_key) over (
            partition by group_key
            order by first_seen_at, priority, node_key
        ) as founding_key
    from grouped
),

assigned as (
    select
        node_key,
        identifier_type,
        identifier_value,
        first_seen_at,
        last_seen_at,
        sources,
        component_key,
        {{ dbt.concat(["'cus_'", "left(" ~ dbt.hash('founding_key') ~ ", 16)"]) }} as customer_id,
        rule_broken as component_rule_broken
    from founded
)

select * from assigned
