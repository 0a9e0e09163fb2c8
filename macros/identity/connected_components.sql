{#- Connected components of an undirected graph, in SQL, inside the running model.

    FastSV (Zhang, Azad and Hu, 2020): every node keeps a parent; each round hooks the
    parents of both ends of every edge to the smaller grandparent (stochastic and aggressive
    hooking) and shortcuts every node to its grandparent. Labels halve their distance to the
    component minimum each round, so the rounds grow with the logarithm of the component
    size, not with its diameter (a chain of 100,000 nodes takes about 20 rounds, not 100,000).
    It stops when no parent changes; `max_rounds` only guards against a bug.

    nodes_sql: a query with one column node_key (text, unique); edges_sql: columns node_a,
    node_b (node keys). Only the nodes with an edge are iterated, under integer ids; a node
    without one is its own component. Work tables are named <prefix>__cc_*; the result table <prefix>__cc_labels
    holds node_key and component_key = the smallest node_key of the component, so the answer
    does not depend on the order of work (a partial recomputation equals a full one).
    Returns {'relation': labels table, 'rounds': rounds run}. -#}
{% macro connected_components(nodes_sql, edges_sql, prefix, max_rounds=500) %}
    {%- set t = {} -%}
    {%- for part in cc_work_parts() -%}
        {%- do t.update({part: work_relation(prefix, '__cc_' ~ part)}) -%}
    {%- endfor -%}
    {%- set int_type = dbt.type_bigint() -%}
    {% do tianwen.execute_statements(drop_cc_work_tables(prefix)) %}
    {#- Only the ends of edges are iterated: a node without an edge is its own component.
        Integer ids in key order, so the smallest id of a component is its smallest key. -#}
    {% do run_query(
        "create table " ~ t.nodes ~ " as select node_key, cast(row_number() over (order by node_key) as "
        ~ int_type ~ ") as node_id from ("
        ~ "select node_a as node_key from (" ~ edges_sql ~ ") as e where node_a <> node_b"
        ~ " union select node_b from (" ~ edges_sql ~ ") as e where node_a <> node_b"
        ~ ") as d where node_key in (select node_key from (" ~ nodes_sql ~ ") as n)") %}
    {#- each edge once with integer ends (both ends must be nodes), then in both directions -#}
    {% do run_query(
        "create table " ~ t.pairs ~ " as "
        ~ "select a.node_id as u, b.node_id as v from (" ~ edges_sql ~ ") as e"
        ~ " inner join " ~ t.nodes ~ " as a on e.node_a = a.node_key"
        ~ " inner join " ~ t.nodes ~ " as b on e.node_b = b.node_key"
        ~ " where e.node_a <> e.node_b") %}
    {% do run_query(
        "create table " ~ t.edges ~ " as select u, v from " ~ t.pairs ~ " union all select v, u from " ~ t.pairs) %}
    {% do run_query("drop table if exists " ~ t.pairs) %}
    {#- parents live in two tables used in turn: nothing is left behind whatever the round -#}
    {%- set tables = [t.fa, t.fb] -%}
    {#- start from the smallest of each node and its neighbours -#}
    {% do run_query(
        "create table " ~ tables[0] ~ " as select u as node, least(u, min(v)) as parent"
        ~ " from " ~ t.edges ~ " group by u") %}
    {%- set state = {'round': 0} -%}
    {%- for i in range(1, max_rounds + 1) %}
        {%- set cur = tables[(i - 1) % 2] -%}
        {%- set nxt = tables[i % 2] -%}
        {% do run_query("drop table if exists " ~ nxt) %}
        {#- FastSV round; `changed` compares each node's new parent with its old one -#}
        {% do run_query(
            "create table " ~ nxt ~ " as "
            ~ "with gf as (select f.node, g.parent as gp from " ~ cur ~ " as f inner join " ~ cur ~ " as g on f.parent = g.node), "
            ~ "mngf as (select e.u as node, min(gf.gp) as m from " ~ t.edges ~ " as e inner join gf on e.v = gf.node group by e.u), "
            ~ "candidates as ("
            ~ " select node, parent as c, parent as old from " ~ cur
            ~ " union all select node, gp, null from gf"
            ~ " union all select node, m, null from mngf"
            ~ " union all select f.parent as node, mngf.m, null from " ~ cur ~ " as f inner join mngf on f.node = mngf.node"
            ~ ") select node, min(c) as parent, min(c) <> min(old) as changed from candidates group by node") %}
        {%- set changed = run_query(
            "select count(*) from " ~ nxt ~ " where changed").columns[0].values()[0] -%}
        {%- do state.update({'round': i}) -%}
        {%- if changed == 0 -%}
            {%- break -%}
        {%- endif -%}
        {%- if i == max_rounds -%}
            {{ exceptions.raise_compiler_error("connected_components did not converge in " ~ max_rounds ~ " rounds") }}
        {%- endif -%}
    {%- endfor %}
    {#- every node: its component's smallest key, or its own key when it has no edge -#}
    {% do run_query(
        "create table " ~ t.labels ~ " as select all_nodes.node_key,"
        ~ " coalesce(iterated.component_key, all_nodes.node_key) as component_key"
        ~ " from (" ~ nodes_sql ~ ") as all_nodes left join ("
        ~ "select n.node_key, r.node_key as component_key"
        ~ " from " ~ tables[state['round'] % 2] ~ " as f"
        ~ " inner join " ~ t.nodes ~ " as n on f.node = n.node_id"
        ~ " inner join " ~ t.nodes ~ " as r on f.parent = r.node_id"
        ~ ") as iterated on all_nodes.node_key = iterated.node_key") %}
    {% do tianwen.execute_statements("drop table if exists " ~ tables[0] ~ ";\ndrop table if exists " ~ tables[1]) %}
    {{ return({'relation': t.labels, 'rounds': state['round']}) }}
{% endmacro %}

{#- The work tables of connected_components, by suffix. -#}
{% macro cc_work_parts() -%}
    {{ return(['nodes', 'pairs', 'edges', 'fa', 'fb', 'labels']) }}
{%- endmacro %}

{#- Drops the work tables of connected_components (also its post-hook). -#}
{% macro drop_cc_work_tables(prefix) -%}
    {%- for part in cc_work_parts() %}
    drop table if exists {{ work_relation(prefix, '__cc_' ~ part) }}{{ ';' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A work table beside `relation`, named <identifier><suffix>, rendered with the
    engine's quoting; relation may be a Relation or an unquoted name. -#}
{% macro work_relation(relation, suffix) -%}
    {%- if relation is string -%}
        {{ return(relation ~ suffix) }}
    {%- endif -%}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ suffix}).render()) }}
{%- endmacro %}

{#- dbt run-operation bench_connected_components --args '{edges: bench.edges}': the
    connected_components macro alone on any edge table (node_a, node_b), for bench/. -#}
{% macro bench_connected_components(edges) %}
    {%- set prefix = api.Relation.create(database=target.database, schema='bench', identifier='cc') -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set nodes_sql = "select node_a as node_key from " ~ edges ~ " union select node_b from " ~ edges -%}
    {%- set result = connected_components(nodes_sql, "select node_a, node_b from " ~ edges, prefix) -%}
    {%- set counts = run_query("select count(distinct component_key), count(*) from " ~ result.relation) -%}
    {%- set largest = run_query("select max(n) from (select count(*) as n from " ~ result.relation
        ~ " group by component_key) as s") -%}
    {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
    {% do log("cc_result rounds=" ~ result.rounds ~ " components=" ~ counts.columns[0].values()[0]
        ~ " nodes=" ~ counts.columns[1].values()[0] ~ " largest=" ~ largest.columns[0].values()[0]
        ~ " seconds=" ~ seconds, info=True) %}
    {% do tianwen.execute_statements(drop_cc_work_tables(prefix)) %}
{% endmacro %}
