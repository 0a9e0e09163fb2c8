{#- Every landed row that staging could not use, with the first rule it broke. Nothing is
    dropped silently: each raw row is staged, removed as a duplicate, or listed here. -#}
{%- set sources = var('tianwen_sources') -%}

with

quarantined as (
    {%- for source_name, spec in sources.items() %}
    select
        '{{ source_name }}' as source_name,
        record_key,
        quarantine_reason,
        quarantine_column,
        _load_error,
        _batch_id,
        _file_name,
        _row_number,
        _loaded_at
    from {{ ref(spec.base) }}
    where quarantine_reason is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        cast(_file_name as {{ dbt.type_string() }}) as file_name,
        cast(_row_number as {{ dbt.type_bigint() }}) as row_number,
        cast(record_key as {{ dbt.type_string() }}) as record_key,
        cast(quarantine_reason as {{ dbt.type_string() }}) as reason_code,
        cast(quarantine_column as {{ dbt.type_string() }}) as reason_column,
        cast(_load_error as {{ dbt.type_string() }}) as load_error,
        cast(_batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from quarantined
)

select * from final
