{#- Drawn once and kept (incremental, never re-inserted, and out of --full-refresh): pseudonyms
    stay stable across builds. In the privacy schema, which the BI role cannot read. -#}
{#- In group reference with the seeds: every run, whatever it selects, has it before the views. -#}
{{ config(materialized='incremental', full_refresh=false, schema='privacy', meta={'dagster': {'group': 'reference'}}) }}

with

drawn as (
    select
        {{ tianwen.random_key() }} as hash_key,
        {{ dbt.current_timestamp() }} as created_at
)

select * from drawn
{% if is_incremental() %}
    where not exists (select 1 from {{ this }})
{% endif %}
