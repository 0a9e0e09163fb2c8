{#- The moment profiles, tags and segments are computed for: var('profile_as_of') when set
    (a date, to rebuild the past or pin tests), else the latest observation in the
    identity graph, so "days since last purchase" means the same on every engine and every
    rebuild of the same data, and never depends on when the build happened to run. -#}

with

identities as (
    select * from {{ ref('customer_identities') }}
),

latest as (
    select
            {%- if var('profile_as_of', none) %}
        cast('{{ var("profile_as_of") }}' as {{ dbt.type_timestamp() }}) as as_of_at
        {%- else %}
        max(last_seen_at) as as_of_at
        {%- endif %}
    from identities
),

final as (
    select
        cast(as_of_at as {{ dbt.type_timestamp() }}) as as_of_at,
        cast(as_of_at as date) as as_of_date
    from latest
)

select * from final
