{#- Identifiers that break a cardinality rule of identity_rules: linked to more values of a
    type than one person can hold. They are not used to merge anyone. -#}

with

linked as (
    select * from {{ ref('int_identifiers_linked') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

breaks as (
    select
        linked.node_key,
        linked.identifier_type,
        linked.identifier_value,
        linked.linked_type,
        linked.linked_values,
        rules.max_per_person,
        {{ dbt.concat(["'max_'", 'linked.linked_type', "'_per_person'"]) }} as rule_broken
    from linked
    inner join rules on linked.linked_type = rules.identifier_type
    where linked.linked_values > rules.max_per_person
)

select * from breaks
