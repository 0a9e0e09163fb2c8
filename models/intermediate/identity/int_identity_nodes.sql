{#- The nodes of the identity graph: every identifier that may merge people (normalised,
    not junk, no broken rule), with when and where it was seen. -#}

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

usable as (
    select
        {{ identity_node_key('identifier_type', 'identifier_value') }} as node_key,
        identifier_type,
        identifier_value,
        source_name,
        observed_at
    from occurrences
    where not is_junk
),

per_source as (
    select
        node_key,
        identifier_type,
        identifier_value,
        source_name,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        count(*) as occurrences
    from usable
    where node_key not in (select breaks.node_key from breaks)
    group by node_key, identifier_type, identifier_value, source_name
),

nodes as (
    select
        per_source.node_key,
        per_source.identifier_type,
        per_source.identifier_value,
        rules.priority,
        rules.is_unique_per_person,
        min(per_source.first_seen_at) as first_seen_at,
        max(per_source.last_seen_at) as last_seen_at,
        sum(per_source.occurrences) as occurrences,
        {{ dbt.listagg('per_source.source_name', "','", 'order by per_source.source_name') }} as sources
    from per_source
    inner join rules on per_source.identifier_type = rules.identifier_type
    group by
        per_source.node_key,
        per_source.identifier_type,
        per_source.identifier_value,
        rules.priority,
        rules.is_unique_per_person
)

select * from nodes
