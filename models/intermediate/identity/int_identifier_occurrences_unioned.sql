{#- Every identifier seen in a staged record, one row per (source, record, type): the long
    list identity stitching starts from. Which columns carry which identifier type comes
    from vars.tianwen_sources; junk values are flagged from the identifier_blocklist seed:
    exact values by a hash join, regex and repeated_char rules compiled into this query as
    constants (identifier_blocklist_rules), so no value is tried against every rule.

    An incremental record model (records_since): a build reads only the staged records
    written since the last one, after deleting the rows of records that changed or left
    staging. A change to the junk rules or the identifier columns flags everything
    again. Spark's Parquet tables cannot delete rows: there it is a whole table. -#}
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}
{%- set sources = var('tianwen_sources') -%}
{%- set pattern_rules = identifier_blocklist_rules(ref('identifier_blocklist')) -%}
{%- set fingerprint = rules_fingerprint([ref('identifier_blocklist')], sources) -%}
{%- set since = records_since(fingerprint) -%}
{%- if since is not none -%}
    {#- keep the records staged, unchanged, no later than `since` -#}
    {%- set kept = [] -%}
    {%- for source_name, spec in sources.items() if spec.identifiers -%}
        {%- do kept.append("select '" ~ source_name ~ "' as source_name, cast(" ~ spec.key ~ " as "
            ~ dbt.type_string() ~ ") as record_key from " ~ ref(spec.staged) ~ " where built_at <= " ~ since) -%}
    {%- endfor -%}
    {%- do forget_records_not_in(kept | join(' union all ')) -%}
{%- endif %}

with

blocklist as (
    select * from {{ ref('identifier_blocklist') }}
),

occurrences as (
    {%- for source_name, spec in sources.items() if spec.identifiers %}
    {%- set outer_loop = loop %}
    {%- for identifier_type in spec.identifiers %}
    select
        '{{ source_name }}' as source_name,
        cast({{ spec.key }} as {{ dbt.type_string() }}) as record_key,
        '{{ identifier_type }}' as identifier_type,
        cast({{ identifier_type }} as {{ dbt.type_string() }}) as identifier_value,
        cast({{ spec.observed_at }} as {{ dbt.type_timestamp() }}) as observed_at
    from {{ ref(spec.staged) }}
    where {{ identifier_type }} is not null
    {%- if since is not none %}
        and built_at > {{ since }}
    {%- endif %}
    {%- if not (outer_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
),

{% if pattern_rules is not none %}
exact_rules as (
    select
        identifier_type,
        pattern,
        min(reason) as reason
    from blocklist
    where match_type = 'exact'
    group by identifier_type, pattern
),

reasons as (
    select
        occurrences.source_name,
        occurrences.record_key,
        occurrences.identifier_type,
        occurrences.identifier_value,
        occurrences.observed_at,
        exact_rules.reason as exact_reason,
        {{ blocklist_pattern_reason(pattern_rules, 'occurrences.identifier_type', 'occurrences.identifier_value') }}
            as pattern_reason
    from occurrences
    left join exact_rules
        on
            occurrences.identifier_type = exact_rules.identifier_type
            and occurrences.identifier_value = exact_rules.pattern
),

flagged as (
    select
        source_name,
        record_key,
        identifier_type,
        identifier_value,
        coalesce(exact_reason, pattern_reason) is not null as is_junk,
        case
            when exact_reason is null then pattern_reason
            when pattern_reason is null then exact_reason
            when exact_reason < pattern_reason then exact_reason
            else pattern_reason
        end as junk_reason,
        observed_at,
        {{ run_timestamp() }} as built_at,
        cast({{ tianwen.sql_literal(fingerprint or '') }} as {{ dbt.type_string() }}) as rules_fingerprint
    from reasons
)
{% else %}
{#- parse time, before the seed exists, unit tests: every value against every rule -#}
distinct_values as (
    select distinct
        identifier_type,
        identifier_value
    from occurrences
),

junk_values as (
    select
        distinct_values.identifier_type,
        distinct_values.identifier_value,
        min(blocklist.reason) as junk_reason
    from distinct_values
    inner join blocklist
        on
            distinct_values.identifier_type = blocklist.identifier_type
            and (
                (blocklist.match_type = 'exact' and distinct_values.identifier_value = blocklist.pattern)
                or (
                    blocklist.match_type = 'regex'
                    and {{ tianwen.regexp_like('distinct_values.identifier_value', 'blocklist.pattern') }}
                )
                or (
                    blocklist.match_type = 'repeated_char'
                    and replace(distinct_values.identifier_value, left(distinct_values.identifier_value, 1), '') = ''
                )
            )
    group by distinct_values.identifier_type, distinct_values.identifier_value
),

flagged as (
    select
        occurrences.source_name,
        occurrences.record_key,
        occurrences.identifier_type,
        occurrences.identifier_value,
        junk_values.junk_reason is not null as is_junk,
        junk_values.junk_reason,
        occurrences.observed_at,
        {{ run_timestamp() }} as built_at,
        cast({{ tianwen.sql_literal(fingerprint or '') }} as {{ dbt.type_string() }}) as rules_fingerprint
    from occurrences
    left join junk_values
        on
            occurrences.identifier_type = junk_values.identifier_type
            and occurrences.identifier_value = junk_values.identifier_value
)
{% endif %}

select * from flagged
