{#- Every training run of every predictive model with its validation metrics (source
    ml.model_runs): the audit trail of the predictive tags. -#}

with

runs as (
    select * from {{ source('ml', 'model_runs') }}
),

final as (
    select
        cast(model_run_id as {{ dbt.type_string() }}) as model_run_id,
        cast(model_name as {{ dbt.type_string() }}) as model_name,
        cast(trained_at as {{ dbt.type_timestamp() }}) as trained_at,
        cast(cutoff_at as {{ dbt.type_timestamp() }}) as cutoff_at,
        cast(validated_at as {{ dbt.type_timestamp() }}) as validated_at,
        cast(training_rows as {{ dbt.type_int() }}) as training_rows,
        cast(validation_rows as {{ dbt.type_int() }}) as validation_rows,
        cast(positive_rate as {{ dbt.type_numeric() }}) as positive_rate,
        cast(auc as {{ dbt.type_numeric() }}) as auc,
        cast(brier_score as {{ dbt.type_numeric() }}) as brier_score,
        cast(reliability as {{ dbt.type_string() }}) as reliability,
        cast(params as {{ dbt.type_string() }}) as params
    from runs
)

select * from final
