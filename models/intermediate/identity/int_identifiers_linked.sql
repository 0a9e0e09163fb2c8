{#- For every usable identifier (normalised, not junk), how many distinct values of each
    other type it appears with in the same records. identity_rules says how many a person
    can hold; an identifier linked to more (a mobile seen with two member ids, a device with
    eleven cookies... per the rules) would merge different people. Each source's records
    are first reduced to their distinct identifier tuples (many events share one cookie and
    member id), so the pairs come from far fewer rows: identical to pairing every record with
    itself. The tuples are read from the staged records, where the identifiers already sit
    side by side, with junk values blanked: the same values as the occurrences' (which are
    the staged columns, flagged by type and value), without regrouping the occurrences by
    record. Both are current in the same build; a build selecting this model alone after
    new batches were staged would pair the new records with flags of the old ones. -#}
{%- set sources = var('tianwen_sources') -%}

with

junk as (
    select distinct
        identifier_type,
        identifier_value
    from {{ ref('int_identifier_occurrences_unioned') }}
    where is_junk
),

{% for source_name, spec in sources.items() if spec.identifiers | length > 1 %}
{{ source_name }}__records as (
    select * from {{ ref(spec.staged) }}
),

{{ source_name }}__tuples as (
    select distinct
        {%- for t in spec.identifiers %}
        case
            when junk_{{ t }}.identifier_value is null
                then cast({{ source_name }}__records.{{ t }} as {{ dbt.type_string() }})
        end as {{ t }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ source_name }}__records
    {%- for t in spec.identifiers %}
    left join junk as junk_{{ t }}
        on
            junk_{{ t }}.identifier_type = '{{ t }}'
            and cast({{ source_name }}__records.{{ t }} as {{ dbt.type_string() }}) = junk_{{ t }}.identifier_value
    {%- endfor %}
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
