{#- Treatment and holdout groups per campaign (source activation.campaign_assignments, written
    by the syncs): a deterministic hash of campaign and customer decides, and the first
    assignment stays. A view, so it shows what the latest sync recorded. -#}
{{ config(materialized='view') }}

with

assignments as (
    select * from {{ source('activation', 'campaign_assignments') }}
),

final as (
    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(assignment_group as {{ dbt.type_string() }}) as assignment_group,
        cast(assigned_at as {{ dbt.type_timestamp() }}) as assigned_at
    from assignments
)

select * from final
