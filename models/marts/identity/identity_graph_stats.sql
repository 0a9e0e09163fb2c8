{#- One row per build: the size and shape of the identity graph, for monitoring over time. -#}
{{ config(materialized='incremental', unique_key='run_id', on_schema_change='append_new_columns') }}

with

nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
),

assignments as (
    select * from {{ ref('int_identity_assignments') }}
),

conflicts as (
    select * from {{ ref('identity_conflicts') }}
),

customers as (
    select
        customer_id,
        count(*) as identifiers
    from assignments
    group by customer_id
),

component_sizes as (
    select
        component_key,
        count(*) as component_size
    from components
    group by component_key
),

stats as (
    select
        (select count(*) from nodes) as identifiers,
        (select count(*) from edges) as edges,
        (select count(*) from customers) as customers,
        (select sum(case when identifiers = 1 then 1 else 0 end) from customers) as singletons,
        (select max(identifiers) from customers) as largest_customer,
        (select max(component_size) from component_sizes) as largest_component,
        (select max(cc_rounds) from components) as rounds,
        (select max(cc_recomputed_nodes) from components) as recomputed_identifiers,
        (select count(*) from conflicts) as conflicts
),

final as (
    select
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as run_id,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as computed_at,
        cast(identifiers as {{ dbt.type_bigint() }}) as identifiers,
        cast(edges as {{ dbt.type_bigint() }}) as edges,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(coalesce(singletons, 0) as {{ dbt.type_bigint() }}) as singletons,
        cast(coalesce(largest_customer, 0) as {{ dbt.type_bigint() }}) as largest_customer,
        cast(coalesce(largest_component, 0) as {{ dbt.type_bigint() }}) as largest_component,
        cast(coalesce(rounds, 0) as {{ dbt.type_int() }}) as rounds,
        cast(coalesce(recomputed_identifiers, 0) as {{ dbt.type_bigint() }}) as recomputed_identifiers,
        cast(conflicts as {{ dbt.type_bigint() }}) as conflicts,
        cast(
            case when identifiers > 0 then conflicts * 1000000.0 / identifiers else 0 end
            as {{ dbt.type_numeric() }}
        ) as conflicts_per_million_identifiers
    from stats
)

select * from final
