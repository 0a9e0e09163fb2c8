{#- on-run-start hook: the tables the predictive-tags job (orchestration/ml) writes and dbt
    reads as the `ml` source. Created empty here, so the score marts build before the first
    training run; the Python side only inserts and deletes rows. -#}
{% macro create_ml_tables() -%}
create schema if not exists ml;
create table if not exists ml.customer_scores (
    customer_id varchar(64),
    churn_risk_score double precision,
    purchase_propensity_30d double precision,
    cluster_id integer,
    cluster_name varchar(64),
    model_run_id varchar(64),
    scored_at timestamp
);
create table if not exists ml.model_runs (
    model_run_id varchar(64),
    model_name varchar(64),
    trained_at timestamp,
    cutoff_at timestamp,
    validated_at timestamp,
    training_rows integer,
    validation_rows integer,
    positive_rate double precision,
    auc double precision,
    brier_score double precision,
    reliability varchar(4000),
    params varchar(4000)
);
create table if not exists ml.cluster_profiles (
    model_run_id varchar(64),
    cluster_id integer,
    cluster_name varchar(64),
    description varchar(1000),
    customers integer,
    avg_recency_days double precision,
    avg_purchases double precision,
    avg_spend double precision
)
{%- endmacro %}
