{#- Per source: rows landed in raw = rows staged + duplicates removed + rows quarantined,
    and raw rows + rows purged by retention + rows deleted by erasure = records the loader counted in the files without
    their parser (lines outside quotes, JSON lines, Parquet footer rows), so a parser that
    swallows lines shows too.
    Each count is taken from its own model, so a model that drops or repeats rows shows. -#}
{%- set sources = var('tianwen_sources') -%}

with

ledger as (
    select
        source_name,
        sum(row_count) as ledger_rows,
        -- ledgers written before record counting have none: their rows stand in
        sum(coalesce(file_records, row_count)) as file_records
    from {{ source('loader', 'load_ledger') }}
    group by source_name
),

purged as (
    select
        source_name,
        sum(purged_rows) as purged_rows
    from {{ source('retention', 'retention_log') }}
    group by source_name
),

erased as (
    select
        source_name,
        sum(deleted_rows) as erased_rows
    from {{ source('erasure', 'erasure_deletions') }}
    where source_name is not null
    group by source_name
),

quarantined as (
    select
        source_name,
        count(*) as quarantined_rows
    from {{ ref('quarantined_rows') }}
    group by source_name
),

counts as (
    {%- for source_name, spec in sources.items() %}
    select
        '{{ source_name }}' as source_name,
        (select count(*) from {{ source(spec.source[0], spec.source[1]) }}) as landed_rows,
        (select count(*) from {{ ref(spec.staged) }}) as staged_rows,
        (
            select count(*) from {{ ref(spec.base) }}
            where quarantine_reason is null and dedupe_rank > 1
        ) as duplicate_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(counts.source_name as {{ dbt.type_string() }}) as source_name,
        cast(coalesce(ledger.file_records, 0) as {{ dbt.type_bigint() }}) as file_records,
        cast(coalesce(ledger.ledger_rows, 0) as {{ dbt.type_bigint() }}) as ledger_rows,
        cast(counts.landed_rows as {{ dbt.type_bigint() }}) as landed_rows,
        cast(counts.staged_rows as {{ dbt.type_bigint() }}) as staged_rows,
        cast(counts.duplicate_rows as {{ dbt.type_bigint() }}) as duplicate_rows,
        cast(coalesce(quarantined.quarantined_rows, 0) as {{ dbt.type_bigint() }}) as quarantined_rows,
        cast(coalesce(purged.purged_rows, 0) as {{ dbt.type_bigint() }}) as purged_rows,
        cast(coalesce(erased.erased_rows, 0) as {{ dbt.type_bigint() }}) as erased_rows,
        (
            counts.landed_rows
            = counts.staged_rows + counts.duplicate_rows + coalesce(quarantined.quarantined_rows, 0)
            and counts.landed_rows + coalesce(purged.purged_rows, 0) + coalesce(erased.erased_rows, 0)
            = coalesce(ledger.ledger_rows, 0)
            and counts.landed_rows + coalesce(purged.purged_rows, 0) + coalesce(erased.erased_rows, 0)
            = coalesce(ledger.file_records, 0)
        ) as is_reconciled
    from counts
    left join ledger on counts.source_name = ledger.source_name
    left join quarantined on counts.source_name = quarantined.source_name
    left join purged on counts.source_name = purged.source_name
    left join erased on counts.source_name = erased.source_name
)

select * from final
