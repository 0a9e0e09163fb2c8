{#- What each behaviour cluster of each training run means: name, description and the
    averages it was named from (source ml.cluster_profiles). -#}

with

profiles as (
    select * from {{ source('ml', 'cluster_profiles') }}
),

final as (
    select
        cast(model_run_id as {{ dbt.type_string() }}) as model_run_id,
        cast(cluster_id as {{ dbt.type_int() }}) as cluster_id,
        cast(cluster_name as {{ dbt.type_string() }}) as cluster_name,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(customers as {{ dbt.type_int() }}) as customers,
        cast(avg_recency_days as {{ dbt.type_numeric() }}) as avg_recency_days,
        cast(avg_purchases as {{ dbt.type_numeric() }}) as avg_purchases,
        cast(avg_spend as {{ dbt.type_numeric() }}) as avg_spend
    from profiles
)

select * from final
