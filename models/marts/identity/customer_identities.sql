{#- One row per identifier that belongs to a customer: the public map from any identifier
    to its stable customer_id. Junk and rule-breaking identifiers are not here (see
    identity_conflicts). -#}

with

assignments as (
    select * from {{ ref('int_identity_assignments') }}
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(identifier_value as {{ dbt.type_string() }}) as identifier_value,
        cast(first_seen_at as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(last_seen_at as {{ dbt.type_timestamp() }}) as last_seen_at,
        cast(sources as {{ dbt.type_string() }}) as sources
    from assignments
)

select * from final
