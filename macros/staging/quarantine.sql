{#- The quarantine rule of a base model, declared as a list of checks; the first that
    fails names the reason. A check is {'reason': code, 'column': name} and, unless it says
    'when', fails where the raw text (raw_<column>) is present but the typed value is null.
    A line the loader could not parse always comes first (malformed_line). -#}
{% macro quarantine_reason(checks) -%}
    case
        when _load_error is not null then 'malformed_line'
    {%- for check in checks %}
        when {{ _check_fails(check) }} then '{{ check.reason }}'
    {%- endfor %}
    end
{%- endmacro %}

{% macro quarantine_column(checks) -%}
    case
        when _load_error is not null then '_load_error'
    {%- for check in checks %}
        when {{ _check_fails(check) }} then '{{ check.column }}'
    {%- endfor %}
    end
{%- endmacro %}

{% macro _check_fails(check) -%}
    {%- if check.when is defined -%}
        ({{ check.when }})
    {%- else -%}
        (raw_{{ check.column }} is not null and {{ check.column }} is null)
    {%- endif -%}
{%- endmacro %}

{#- A time later than the moment its row arrived (plus a tolerance) can't be true. -#}
{% macro is_future(column) -%}
    {{ column }} > {{ dbt.dateadd('hour', var('future_tolerance_hours'), '_loaded_at') }}
{%- endmacro %}

{#- A date or time no real record can hold: before var('min_plausible_timestamp') (a
    placeholder such as 0001-01-01 or 1900-01-01, or a typo). Reason code implausible_date. -#}
{% macro is_implausible(column) -%}
    {{ column }} < cast('{{ var("min_plausible_timestamp") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- A birth date giving an age over var('max_age_years') when the row arrived. -#}
{% macro is_implausible_birth_date(column) -%}
    {{ column }} < {{ dbt.dateadd('year', -1 * var('max_age_years'), '_loaded_at') }}
{%- endmacro %}

{#- 1 for the row that survives among the unquarantined rows of one key: the latest
    version (then the latest received) when the source has a version column, else the
    first received. Null for quarantined rows. -#}
{% macro dedupe_rank(key_columns, version_column=none) -%}
    case when quarantine_reason is null then row_number() over (
        partition by (quarantine_reason is null), {{ key_columns | join(', ') }}
        order by
        {%- if version_column %}
            {{ version_column }} desc nulls last, _loaded_at desc, _file_name desc, _row_number desc
        {%- else %}
            _loaded_at, _file_name, _row_number
        {%- endif %}
    ) end
{%- endmacro %}

{#- The raw text of columns, trimmed, empty as null: kept beside the typed values so a
    check can tell an absent value from an unreadable one. -#}
{% macro raw_columns(columns) -%}
    {%- for column in columns %}
        {{ clean_text(column) }} as raw_{{ column }},
    {%- endfor %}
{%- endmacro %}

{#- Where each raw row came from; carried through staging for lineage and tie-breaks. -#}
{% macro load_columns() -%}
        _extra,
        _load_error,
        _batch_id,
        _file_name,
        _row_number,
        _loaded_at
{%- endmacro %}

{#- The two CTEs every base model ends with: `checked` (quarantine_reason and
    quarantine_column from the declared checks) and `ranked` (dedupe_rank among the
    unquarantined rows of a key). The model then selects from `ranked`. -#}
{% macro quarantine_and_rank(checks, key_columns, version_column=none, relation='typed') %}
checked as (
    select
        *,
        {{ quarantine_reason(checks) }} as quarantine_reason,
        {{ quarantine_column(checks) }} as quarantine_column
    from {{ relation }}
),

ranked as (
    select
        *,
        {{ dedupe_rank(key_columns, version_column) }} as dedupe_rank,
        {#- every row of a key the build touched is written again: the record models after
            staging read only rows newer than what they hold (records_since) -#}
        {{ run_timestamp() }} as _built_at
    from checked
)
{% endmacro %}
