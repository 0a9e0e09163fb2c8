{#- Every staged erasure request and what was done about it, without personal data: requests
    the erasure step carried out (privacy.erasure_outcomes, with the rows its run deleted) and
    staged requests still waiting (a malformed request is in quarantined_rows instead), each with its legal deadline
    (var erasure_deadline_days, CDP_ERASURE_DEADLINE_DAYS). -#}
{%- set days = var('erasure_deadline_days') | int -%}
{%- if days < 1 -%}
    {{ exceptions.raise_compiler_error("erasure_deadline_days must be a whole number of days, at least 1: set CDP_ERASURE_DEADLINE_DAYS") }}
{%- endif -%}
{%- set built_at = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}

with

outcomes as (
    select * from {{ source('erasure', 'erasure_outcomes') }}
),

deletions as (
    select * from {{ source('erasure', 'erasure_deletions') }}
),

requests as (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

run_deletions as (
    select
        erasure_run_id,
        sum(deleted_rows) as deleted_rows
    from deletions
    group by erasure_run_id
),

carried_out as (
    select
        outcomes.request_id,
        outcomes.identifier_type,
        outcomes.requested_at,
        outcomes.outcome as status,
        outcomes.erasure_run_id,
        outcomes.completed_at,
        outcomes.customers_erased,
        outcomes.identifiers_suppressed,
        outcomes.audiences_notified,
        outcomes.syncs_to_forward,
        outcomes.files_rewritten,
        coalesce(run_deletions.deleted_rows, 0) as run_deleted_rows
    from outcomes
    left join run_deletions on outcomes.erasure_run_id = run_deletions.erasure_run_id
),

waiting as (
    select
        requests.request_id,
        requests.identifier_type,
        requests.requested_at,
        'pending' as status,
        cast(null as {{ dbt.type_string() }}) as erasure_run_id,
        cast(null as {{ dbt.type_timestamp() }}) as completed_at,
        0 as customers_erased,
        0 as identifiers_suppressed,
        0 as audiences_notified,
        cast(null as {{ dbt.type_string() }}) as syncs_to_forward,
        0 as files_rewritten,
        0 as run_deleted_rows
    from requests
    where not exists (
        select 1 from outcomes
        where outcomes.request_id = requests.request_id
    )
),

unioned as (
    select * from carried_out
    union all
    select * from waiting
),

final as (
    select
        cast(request_id as {{ dbt.type_string() }}) as request_id,
        cast(identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(requested_at as {{ dbt.type_timestamp() }}) as requested_at,
        cast({{ dbt.dateadd('day', days, 'requested_at') }} as {{ dbt.type_timestamp() }}) as due_at,
        cast(status as {{ dbt.type_string() }}) as status,
        cast(erasure_run_id as {{ dbt.type_string() }}) as erasure_run_id,
        cast(completed_at as {{ dbt.type_timestamp() }}) as completed_at,
        cast(customers_erased as integer) as customers_erased,
        cast(identifiers_suppressed as integer) as identifiers_suppressed,
        cast(audiences_notified as integer) as audiences_notified,
        cast(syncs_to_forward as {{ dbt.type_string() }}) as syncs_to_forward,
        cast(files_rewritten as integer) as files_rewritten,
        cast(run_deleted_rows as {{ dbt.type_bigint() }}) as run_deleted_rows,
        coalesce(status = 'pending' and {{ dbt.dateadd('day', days, 'requested_at') }} < {{ built_at }}, false)
            as is_overdue,
        coalesce(completed_at > {{ dbt.dateadd('day', days, 'requested_at') }}, false) as was_late
    from unioned
)

select * from final
