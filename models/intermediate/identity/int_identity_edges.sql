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
        ) as anchor_rank
    from usable
),

anchors as (
    select
        source_name,
        record_key,
        node_key as anchor_key
    from ranked
    where anchor_rank = 1
),

edges as (
    select
        anchors.anchor_key as node_a,
        ranked.node_key as node_b,
        ranked.source_name,
        min(ranked.observed_at) as first_seen_at,
        max(ranked.observed_at) as last_seen_at,
        count(*) as records
    from ranked
    inner join anchors
        on
            ranked.source_name = anchors.source_name
            and ranked.record_key = anchors.record_key
    where ranked.anchor_rank > 1
    group by anchors.anchor_key, ranked.node_key, ranked.source_name
)

select * from edges
