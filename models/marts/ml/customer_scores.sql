{#- The predictive tags of every scored customer: churn risk, purchase propensity and
    behaviour cluster, as the latest training run wrote them (source ml.customer_scores). -#}

with

scores as (
    select * from {{ source('ml', 'customer_scores') }}
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(churn_risk_score as {{ dbt.type_numeric() }}) as churn_risk_score,
        cast(purchase_propensity_30d as {{ dbt.type_numeric() }}) as purchase_propensity_30d,
        cast(cluster_id as {{ dbt.type_int() }}) as cluster_id,
        cast(cluster_name as {{ dbt.type_string() }}) as cluster_name,
        cast(model_run_id as {{ dbt.type_string() }}) as model_run_id,
        cast(scored_at as {{ dbt.type_timestamp() }}) as scored_at
    from scores
)

select * from final
