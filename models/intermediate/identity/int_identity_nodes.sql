{#- The nodes of the identity graph: every identifier that may merge people (normalised,
    not junk, no broken rule), with when and where it was seen. Grouped by type and value;
    the node key ('<type>:<value>', the same pair) is built once per node, after grouping. -#}

with

occurrences as (
    select * from {{ ref('int_identifier_occurrences_unioned') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

breaks as (
    select distinct node_key from {{ ref('int_identity_rule_breaks') }}
),

per_source as (
    select
        identifier_type,
        identifier_value,
        source_name,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as occurrences
    from occurrences
    where not is_junk
    group by identifier_type, identifier_value, source_name
),

per_identifier as (
    select
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(occurrences) as occurrences,
        {{ dbt.listagg('source_name', "','", 'order by source_name') }} as sources
    from per_source
    group by identifier_type, identifier_value
),

nodes as (
    select
        {{ identity_node_key('per_identifier.identifier_type', 'per_identifier.identifier_value') }} as node_key,
        per_identifier.identifier_type,
        per_identifier.identifier_value,
        rules.priority,
        rules.is_unique_per_person,
        per_identifier.first_seen_at,
        per_identifier.last_seen_at,
        per_identifier.occurrences,
        per_identifier.sources
    from per_identifier
    inner join rules on per_identifier.identifier_type = rules.identifier_type
    where
        {{ identity_node_key('per_identifier.identifier_type', 'per_identifier.identifier_value') }}
        not in (select breaks.node_key from breaks)
)

select * from nodes
