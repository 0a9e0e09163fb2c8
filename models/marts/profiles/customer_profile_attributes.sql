{#- Every candidate value of every golden-profile attribute, with its source, when it was
    seen, the rule that judged it and whether it won: "why does this profile say Hangzhou?"
    is one query. The rule per attribute comes from the survivorship_rules seed; exactly
    one candidate per (customer, attribute) wins. -#}

with

candidates as (
    select * from {{ ref('int_profile_attribute_candidates') }}
),

rules as (
    select * from {{ ref('survivorship_rules') }}
),

scored as (
    select
        candidates.*,
        rules.rule,
        rules.is_non_null_only,
        nullif(
            {{ dbt.position("' ' || candidates.source_name || ' '", "' ' || rules.source_priority || ' '") }},
            0
        ) as source_rank,
        sum(candidates.occurrences) over (
            partition by candidates.customer_id, candidates.attribute_name, candidates.attribute_value
        ) as value_occurrences
    from candidates
    inner join rules
        on candidates.attribute_name = rules.attribute_name
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, attribute_name
            order by
                case when is_non_null_only and attribute_value is null then 1 else 0 end,
                case when rule = 'source_priority' then source_rank end asc nulls last,
                case when rule = 'most_frequent' then value_occurrences end desc nulls last,
                case when rule = 'first_seen' then first_observed_at end asc nulls last,
                case when rule = 'most_recent' then last_observed_at end desc nulls last,
                last_observed_at desc nulls last,
                source_rank asc nulls last,
                {{ dbt.hash('attribute_value') }} asc nulls last
        ) as candidate_rank
    from scored
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(attribute_name as {{ dbt.type_string() }}) as attribute_name,
        cast(attribute_value as {{ dbt.type_string() }}) as attribute_value,
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        cast(last_observed_at as {{ dbt.type_timestamp() }}) as observed_at,
        cast(first_observed_at as {{ dbt.type_timestamp() }}) as first_observed_at,
        cast(occurrences as {{ dbt.type_bigint() }}) as occurrences,
        cast(value_occurrences as {{ dbt.type_bigint() }}) as value_occurrences,
        cast(rule as {{ dbt.type_string() }}) as survivorship_rule,
        cast(candidate_rank as {{ dbt.type_int() }}) as candidate_rank,
        candidate_rank = 1 as is_winner
    from ranked
)

select * from final
