{#- The edges of the identity graph. Each record links its identifiers to one anchor, its
    highest-priority identifier (identity_rules), not all pairs: k identifiers give k - 1
    edges. Junk and rule-breaking identifiers are not nodes, so they link nothing.

    Records with the same identifiers make the same edges, so each source's staged records
    are first reduced to their distinct identifier tuples, with how many records hold each
    and when they were first and last observed; the anchors are ranked per tuple, not per
    record. The staged columns are the occurrences' values (the nodes are built from those),
    so the edges are identical to ranking every record's occurrences. Both are current in the
    same build, as for int_identifiers_linked. -#}
{%- set sources = var('tianwen_sources') -%}
{%- set linking = [] -%}
{%- for source_name, spec in sources.items() if spec.identifiers | length > 1 -%}
    {%- do linking.append((source_name, spec)) -%}
{%- endfor %}

with

nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

{% for source_name, spec in linking %}
{{ source_name }}__records as (
    select * from {{ ref(spec.staged) }}
),

-- the distinct identifier tuples, with how many records hold each and when
{{ source_name }}__tuples as (
    select
        {%- for t in spec.identifiers %}
        cast({{ t }} as {{ dbt.type_string() }}) as {{ t }},
        {%- endfor %}
        min(cast({{ spec.observed_at }} as {{ dbt.type_timestamp() }})) as first_seen_at,
        max(cast({{ spec.observed_at }} as {{ dbt.type_timestamp() }})) as last_seen_at,
        count(*) as records
    from {{ source_name }}__records
    group by
        {%- for t in spec.identifiers %}
        cast({{ t }} as {{ dbt.type_string() }}){% if not loop.last %},{% endif %}
        {%- endfor %}
),

-- each identifier of the tuple as a node (null when it is none: junk, a broken rule)
{{ source_name }}__nodes as (
    select
        {%- for t in spec.identifiers %}
        node_{{ t }}.node_key as {{ t }}_node_key,
        node_{{ t }}.priority as {{ t }}_priority,
        {%- endfor %}
        tuples.first_seen_at,
        tuples.last_seen_at,
        tuples.records
    from {{ source_name }}__tuples as tuples
    {%- for t in spec.identifiers %}
    left join nodes as node_{{ t }}
        on
            node_{{ t }}.identifier_type = '{{ t }}'
            and tuples.{{ t }} = node_{{ t }}.identifier_value
    {%- endfor %}
),

{{ source_name }}__prioritised as (
    select
        *,
        least(
            {%- for t in spec.identifiers %}
            {{ t }}_priority{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as anchor_priority
    from {{ source_name }}__nodes
),

-- the anchor: the node of the highest priority, the smallest node key among equals
{{ source_name }}__anchored as (
    select
        *,
        least(
            {%- for t in spec.identifiers %}
            case when {{ t }}_priority = anchor_priority then {{ t }}_node_key end{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as anchor_key
    from {{ source_name }}__prioritised
),

{% endfor %}
linked as (
    {%- for source_name, spec in linking %}
    {%- set outer = loop %}
    {%- for t in spec.identifiers %}
    select
        anchor_key as node_a,
        {{ t }}_node_key as node_b,
        '{{ source_name }}' as source_name,
        first_seen_at,
        last_seen_at,
        records
    from {{ source_name }}__anchored
    where {{ t }}_node_key <> anchor_key
    {%- if not (outer.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- else %}
    {#- no source declares two identifier types: no record links two identifiers -#}
    select
        cast(null as {{ dbt.type_string() }}) as node_a,
        cast(null as {{ dbt.type_string() }}) as node_b,
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_seen_at,
        cast(null as {{ dbt.type_bigint() }}) as records
    where 1 = 0
    {%- endfor %}
),

edges as (
    select
        node_a,
        node_b,
        source_name,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(records) as {{ dbt.type_bigint() }}) as records
    from linked
    group by node_a, node_b, source_name
)

select * from edges
