{#- Every staged record that carries an identifier, with the customer it belongs to: the
    customer of its highest-priority identifier (identity_rules), so a record whose
    identifiers were split apart still lands on exactly one customer. -#}

with

occurrences as (
    select * from {{ ref('int_identifier_occurrences_unioned') }}
),

identities as (
    select * from {{ ref('customer_identities') }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

ranked as (
    select
        occurrences.source_name,
        occurrences.record_key,
        identities.customer_id,
        row_number() over (
            partition by occurrences.source_name, occurrences.record_key
            order by rules.priority, identities.customer_id
        ) as customer_rank
    from occurrences
    inner join identities
        on
            occurrences.identifier_type = identities.identifier_type
            and occurrences.identifier_value = identities.identifier_value
    inner join rules
        on occurrences.identifier_type = rules.identifier_type
    where not occurrences.is_junk
),

final as (
    select
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        cast(record_key as {{ dbt.type_string() }}) as record_key,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id
    from ranked
    where customer_rank = 1
)

select * from final
