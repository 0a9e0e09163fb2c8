{#- Connected components of the identity graph, computed in SQL while this model builds
    (macro connected_components: FastSV, logarithmic rounds, stops when nothing changes).

    Incremental by design: when this table and the graph it was computed from exist, only
    the components a change touches are recomputed (the old components of every node and
    edge that appeared or disappeared); the others are copied. The label of a component is
    its smallest node key, so the result equals a full refresh (`--full-refresh` forces one).
    Each row carries the rounds and the number of nodes this build recomputed. -#}
{{ config(
    post_hook=[
        "{{ run_statements(drop_cc_work_tables(this)) }}",
        "drop table if exists {{ work_relation(this, '__affected') }}",
        "drop table if exists {{ work_relation(this, '__changed') }}",
        "{{ run_statements(keep_input_copy(ref('int_identity_edges'), '__graph', ['node_a', 'node_b'])) }}",
    ],
) }}

{%- set nodes_sql = "select node_key from " ~ ref('int_identity_nodes') -%}
{%- set edges_sql = "select node_a, node_b from " ~ ref('int_identity_edges') -%}

{%- if execute and flags.WHICH in ('run', 'build') -%}
    {%- set previous = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set previous_graph = adapter.get_relation(this.database, this.schema, this.identifier ~ '__graph') -%}
    {%- set graph_table = work_relation(this, '__graph') -%}
    {%- set affected_table = work_relation(this, '__affected') -%}
    {%- set changed_table = work_relation(this, '__changed') -%}
    {#- dbt-spark drops a Parquet table before it builds it again, so there the previous
        components cannot be read: every build computes them all -#}
    {%- set incremental = previous is not none and previous_graph is not none and not flags.FULL_REFRESH
                          and target.type != 'spark' -%}
    {%- if incremental -%}
        {#- the nodes and the ends of the edges that appeared or disappeared since last time -#}
        {%- set changed_sql -%}
            with changed_edges as (
                ({{ edges_sql }} except select node_a, node_b from {{ graph_table }})
                union all
                (select node_a, node_b from {{ graph_table }} except {{ edges_sql }})
            )
            (select node_key from {{ this }} except {{ nodes_sql }})
            union
            ({{ nodes_sql }} except select node_key from {{ this }})
            union
            select node_a from changed_edges
            union
            select node_b from changed_edges
        {%- endset -%}
        {% do run_query("drop table if exists " ~ changed_table) %}
        {% do run_query("create table " ~ changed_table ~ " as select node_key from (" ~ changed_sql ~ ") as c") %}
        {#- recomputed: every current node of an old component a change touches, and new nodes -#}
        {%- set affected_sql -%}
            select current_nodes.node_key
            from ({{ nodes_sql }}) as current_nodes
            left join {{ this }} as previous on current_nodes.node_key = previous.node_key
            where previous.node_key is null
                or previous.component_key in (
                    select old.component_key from {{ this }} as old
                    where old.node_key in (select node_key from {{ changed_table }})
                )
                or current_nodes.node_key in (select node_key from {{ changed_table }})
        {%- endset -%}
        {% do run_query("drop table if exists " ~ affected_table) %}
        {% do run_query("create table " ~ affected_table ~ " as " ~ affected_sql) %}
        {%- set result = connected_components(
            "select node_key from " ~ affected_table,
            edges_sql ~ " where node_a in (select node_key from " ~ affected_table ~ ")",
            this) -%}
    {%- else -%}
        {%- set result = connected_components(nodes_sql, edges_sql, this) -%}
    {%- endif -%}
{%- endif %}

with

{% if result is defined and incremental %}
recomputed as (
    select
        node_key,
        component_key
    from {{ result.relation }}
),

kept as (
    select
        previous.node_key,
        previous.component_key
    from {{ this }} as previous
    inner join ({{ nodes_sql }}) as current_nodes on previous.node_key = current_nodes.node_key
    where previous.node_key not in (select recomputed.node_key from recomputed)
),

labels as (
    select * from recomputed
    union all
    select * from kept
),
{% elif result is defined %}
labels as (
    select
        node_key,
        component_key
    from {{ result.relation }}
),
{% else %}
labels as (
    {#- compile, docs, lint: nothing is computed, every node is its own component -#}
    select
        node_key,
        node_key as component_key
    from {{ ref('int_identity_nodes') }}
),
{% endif %}

final as (
    select
        labels.node_key,
        labels.component_key,
        cast({{ result.rounds if result is defined else 0 }} as {{ dbt.type_int() }}) as cc_rounds,
        cast(
            {{ ('(select count(*) from ' ~ result.relation ~ ')') if result is defined else 0 }}
            as {{ dbt.type_bigint() }}
        ) as cc_recomputed_nodes
    from labels
)

select * from final
