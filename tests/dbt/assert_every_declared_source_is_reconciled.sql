{#- Singular test: every landing source declared in vars.tianwen_sources has its row in
    source_reconciliation. A source left out of the reconciliation would escape its
    equations (and their tests) silently. Returns the missing sources. -#}
with

declared as (
    {%- for name in var('tianwen_sources') %}
    select '{{ name }}' as source_name
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

reconciliation as (
    select * from {{ ref('source_reconciliation') }}
),

missing as (
    select declared.source_name
    from declared
    left join reconciliation on declared.source_name = reconciliation.source_name
    where reconciliation.source_name is null
)

select * from missing
