{#- Identifiers kept out of merging, and why: a cardinality rule of identity_rules broken
    (how many values of the linked type, so about how many people, it would have merged), or
    a suspicious component (too large, or two unique ids) that was split instead of merged. -#}

with

rule_breaks as (
    select * from {{ ref('int_identity_rule_breaks') }}
),

assignments as (
    select * from {{ ref('int_identity_assignments') }}
),

identifier_conflicts as (
    select
        identifier_type,
        identifier_value,
        rule_broken,
        linked_type,
        linked_values as would_merge,
        cast(null as {{ dbt.type_string() }}) as component_key
    from rule_breaks
),

component_sizes as (
    select
        component_key,
        count(*) as component_size
    from assignments
    group by component_key
),

component_conflicts as (
    select
        assignments.identifier_type,
        assignments.identifier_value,
        assignments.component_rule_broken as rule_broken,
        cast(null as {{ dbt.type_string() }}) as linked_type,
        component_sizes.component_size as would_merge,
        assignments.component_key
    from assignments
    inner join component_sizes on assignments.component_key = component_sizes.component_key
    where assignments.component_rule_broken is not null
),

unioned as (
    select * from identifier_conflicts
    union all
    select * from component_conflicts
),

final as (
    select
        cast(identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(identifier_value as {{ dbt.type_string() }}) as identifier_value,
        cast(rule_broken as {{ dbt.type_string() }}) as rule_broken,
        cast(linked_type as {{ dbt.type_string() }}) as linked_type,
        cast(would_merge as {{ dbt.type_bigint() }}) as would_merge,
        cast(component_key as {{ dbt.type_string() }}) as component_key
    from unioned
)

select * from final
