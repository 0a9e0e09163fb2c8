{#- Every sync run (source activation.sync_runs): what was sent, suppressed, held out and
    rejected, and how it ended. A view, so it shows runs since the last build too. -#}
{{ config(materialized='view') }}

with

runs as (
    select * from {{ source('activation', 'sync_runs') }}
),

final as (
    select
        cast(run_id as {{ dbt.type_string() }}) as run_id,
        cast(sync_id as {{ dbt.type_string() }}) as sync_id,
        cast(destination_type as {{ dbt.type_string() }}) as destination_type,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(finished_at as {{ dbt.type_timestamp() }}) as finished_at,
        cast(status as {{ dbt.type_string() }}) as status,
        is_dry_run,
        is_full_resync,
        cast(audience_rows as {{ dbt.type_int() }}) as audience_rows,
        cast(suppressed_rows as {{ dbt.type_int() }}) as suppressed_rows,
        cast(held_out_rows as {{ dbt.type_int() }}) as held_out_rows,
        cast(rows_added as {{ dbt.type_int() }}) as rows_added,
        cast(rows_removed as {{ dbt.type_int() }}) as rows_removed,
        cast(rows_changed as {{ dbt.type_int() }}) as rows_changed,
        cast(rows_rejected as {{ dbt.type_int() }}) as rows_rejected,
        cast(batches as {{ dbt.type_int() }}) as batches,
        cast(message as {{ dbt.type_string() }}) as message
    from runs
)

select * from final
