{#- on-run-end: the BI role may read the bi schema and nothing else. PostgreSQL only; other
    engines have no roles to grant (DuckDB's bi schema is the masked surface by convention). -#}
{% macro grant_bi_reader() %}
    {{ return(adapter.dispatch('grant_bi_reader', 'tianwen')()) }}
{% endmacro %}

{% macro default__grant_bi_reader() %}
    select 1
{% endmacro %}

{% macro postgres__grant_bi_reader() %}
    {%- if not execute %}{{ return('select 1') }}{% endif -%}
    {%- set role = var('bi_reader_role') -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'bi' in node.fqn
        and node.config.materialized == 'view' and node.schema not in schemas -%}
        {%- do schemas.append(node.schema) -%}
    {%- endfor -%}
    do $$
    begin
        -- a group role without login: people and tools are granted membership in it
        if not exists (select from pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin;
        end if;
        {%- for schema in schemas %}
        if exists (select from pg_namespace where nspname = '{{ schema }}') then
            grant usage on schema {{ schema }} to {{ role }};
            grant select on all tables in schema {{ schema }} to {{ role }};
        end if;
        {%- endfor %}
    end
    $$
{% endmacro %}
