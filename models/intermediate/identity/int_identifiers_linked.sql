{#- For every usable identifier (normalised, not junk), how many distinct values of each
    other type it appears with in the same records. identity_rules says how many a person
    can hold; an identifier linked to more (a mobile seen with two member ids, a device with
    eleven cookies... per the rules) would merge different people. -#}

with

occurrences as (
    select * from {{ ref('int_identifier_occurrences_unioned') }}
),

usable as (
    select
        source_name,
        record_key,
        identifier_type,
        identifier_value
    from occurrences
    where not is_junk
),

-- by type and value (the node key is the same pair, built once per row at the end)
pairs as (
    select distinct
        usable.identifier_type,
        usable.identifier_value,
        linked.identifier_type as linked_type,
        linked.identifier_value as linked_value
    from usable
    inner join usable as linked
        on
            usable.source_name = linked.source_name
            and usable.record_key = linked.record_key
            and usable.identifier_type <> linked.identifier_type
),

counted as (
    select
        identifier_type,
        identifier_value,
        linked_type,
        count(*) as linked_values
    from pairs
    group by identifier_type, identifier_value, linked_type
),

keyed as (
    select
        {{ identity_node_key('identifier_type', 'identifier_value') }} as node_key,
        identifier_type,
        identifier_value,
        linked_type,
        linked_values
    from counted
)

select * from keyed
