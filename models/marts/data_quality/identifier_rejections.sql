{#- Identifiers that never reached identity stitching, per source, type and reason: present in
    a landed row but malformed (normalize_identifier gave null), or well-formed placeholders
    shared by many people (flagged junk in int_identifier_occurrences_unioned). -#}
{%- set sources = var('tianwen_sources') -%}
{%- set max_examples = 3 -%}

with

malformed as (
    {%- for source_name, spec in sources.items() if spec.identifiers %}
    {%- set outer_loop = loop %}
    {%- for identifier_type in spec.identifiers %}
    {#- a source's key has no raw_ column: its raw text is record_key -#}
    {%- set raw = 'record_key' if identifier_type == spec.key else 'raw_' ~ identifier_type %}
    select
        '{{ source_name }}' as source_name,
        '{{ identifier_type }}' as identifier_type,
        {{ identifier_rejection_reason(identifier_type, raw) }} as reason,
        {{ raw }} as raw_value
    from {{ ref(spec.base) }}
    where {{ raw }} is not null and {{ identifier_type }} is null
    {%- if not (outer_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
),

placeholders as (
    select
        source_name,
        identifier_type,
        'placeholder' as reason,
        identifier_value as raw_value
    from {{ ref('int_identifier_occurrences_unioned') }}
    where is_junk
),

rejected as (
    select * from malformed
    union all
    select * from placeholders
),

counted as (
    select
        source_name,
        identifier_type,
        reason,
        count(*) as rejected_count
    from rejected
    group by source_name, identifier_type, reason
),

examples as (
    select
        source_name,
        identifier_type,
        reason,
        masked_value,
        row_number() over (
            partition by source_name, identifier_type, reason order by masked_value
        ) as example_rank
    from (
        select distinct
            source_name,
            identifier_type,
            reason,
            {{ mask_identifier('raw_value') }} as masked_value
        from rejected
    ) as distinct_examples
),

example_lists as (
    select
        source_name,
        identifier_type,
        reason,
        {{ dbt.listagg('masked_value', "', '", 'order by masked_value') }} as example_values
    from examples
    where example_rank <= {{ max_examples }}
    group by source_name, identifier_type, reason
),

final as (
    select
        cast(counted.source_name as {{ dbt.type_string() }}) as source_name,
        cast(counted.identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(counted.reason as {{ dbt.type_string() }}) as reason,
        cast(counted.rejected_count as {{ dbt.type_bigint() }}) as rejected_count,
        cast(example_lists.example_values as {{ dbt.type_string() }}) as example_values
    from counted
    left join example_lists
        on
            counted.source_name = example_lists.source_name
            and counted.identifier_type = example_lists.identifier_type
            and counted.reason = example_lists.reason
)

select * from final
