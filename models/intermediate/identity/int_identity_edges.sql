{#- The edges of the identity graph. Each record links its identifiers to one anchor, its
    highest-priority identifier (identity_rules), not all pairs: k identifiers give k - 1
    edges. Junk and rule-breaking identifiers are not nodes, so they link nothing. -#}

with

occurrences as (
    select * from {{ ref('int_identifier_occurrences_unioned') }}
),

nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

usable as (
    select
        occurrences.source_name,
        occurrences.record_key,
        occurrences.observed_at,
        nodes.node_key,
        nodes.priority
    from occurrences
    inner join nodes
        on
            occurrences.identifier_type = nodes.identifier_type
            and occurrences.identifier_value = nodes.identifier_value
    where not occurrences.is_junk
),

ranked as (
    select
        *,
        row_number() over (
            partition by source_name, record_key
            order by priority, node_key
        ) as anchor_rank,
        first_value(node_key) over (
            partition by source_name, record_key
            order by priority, node_key
        ) as anchor_key
    from usable
),

edges as (
    select
        anchor_key as node_a,
        node_key as node_b,
        source_name,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as records
    from ranked
    where anchor_rank > 1
    group by anchor_key, node_key, source_name
)

select * from edges
