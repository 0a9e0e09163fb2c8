{#- For every usable identifier (normalised, not junk), how many distinct values of each
    other type it appears with in the same records. identity_rules says how many a person
    can hold; an identifier linked to more (a mobile seen with two member ids, a device with
    eleven cookies... per the rules) would merge different people. Records are first reduced
    to their distinct identifier tuples per source (many events share one cookie and member
    id), so the pairs come from far fewer rows: identical to pairing every record with itself. -#}
{%- set sources = var('tianwen_sources') -%}

with

occurrences as (
    select * from {{ ref('int_identifier_occurrences_unioned') }}
),

usable as (
    select
        source_name,
        record_key,
        identifier_type,
        identifier_value
    from occurrences
    where not is_junk
),

{% for source_name, spec in sources.items() if spec.identifiers | length > 1 %}
{{ source_name }}__records as (
    select
        record_key,
        {%- for t in spec.identifiers %}
        max(case identifier_type when '{{ t }}' then identifier_value end) as {{ t }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from usable
    where source_name = '{{ source_name }}'
    group by record_key
),

{{ source_name }}__tuples as (
    select distinct
        {{ spec.identifiers | join(',\n        ') }}
    from {{ source_name }}__records
),

{% endfor %}
pairs as (
    {%- for source_name, spec in sources.items() if spec.identifiers | length > 1 %}
    {%- set outer = loop %}
    {%- for identifier_type in spec.identifiers %}
    {%- set inner = loop %}
    {%- for linked_type in spec.identifiers if linked_type != identifier_type %}
    select
        '{{ identifier_type }}' as identifier_type,
        {{ identifier_type }} as identifier_value,
        '{{ linked_type }}' as linked_type,
        {{ linked_type }} as linked_value
    from {{ source_name }}__tuples
    where {{ identifier_type }} is not null and {{ linked_type }} is not null
    {%- if not (outer.last and inner.last and loop.last) %}
    union
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
    {%- else %}
    {#- no source declares two identifier types: nothing links -#}
    select
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value,
        cast(null as {{ dbt.type_string() }}) as linked_type,
        cast(null as {{ dbt.type_string() }}) as linked_value
    where 1 = 0
    {%- endfor %}
),

counted as (
    select
        identifier_type,
        identifier_value,
        linked_type,
        count(*) as linked_values
    from pairs
    group by identifier_type, identifier_value, linked_type
),

keyed as (
    select
        {{ identity_node_key('identifier_type', 'identifier_value') }} as node_key,
        identifier_type,
        identifier_value,
        linked_type,
        linked_values
    from counted
)

select * from keyed
