{#- Fails (one row, both counts) when the model and compare_model hold different numbers of
    rows. The primary-key test of a view that shows another model's rows one for one (the
    bi views): with that model's own key test, it proves the view's key without grouping
    the view's rows again, and whatever masking does to the key columns.

    compare_model is a model's name, read through its relation rather than ref(): a ref
    would make the test a child of that model too, and dbt's default (eager) indirect
    selection would then run it whenever that model alone is selected, before the view
    exists. The view refs the model already, so the lineage keeps the edge. A name that is
    no model of the project fails the compile, saying so. -#}
{% test equal_rowcount(model, compare_model) %}
    {{ return(adapter.dispatch('test_equal_rowcount', 'tianwen')(model, compare_model)) }}
{% endtest %}

{% macro default__test_equal_rowcount(model, compare_model) %}
{%- set found = namespace(relation=none) -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == compare_model -%}
        {%- set found.relation = node.relation_name -%}
    {%- endfor -%}
    {%- if found.relation is none -%}
        {{ exceptions.raise_compiler_error("equal_rowcount: compare_model '" ~ compare_model ~ "' is not a model"
            ~ " of this project. Give the name of the model the view shows, e.g. compare_model: customer_profiles") }}
    {%- endif -%}
{%- endif %}
with

counts as (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ found.relation }}) as compare_model_rows
)

select * from counts
where model_rows <> compare_model_rows
{% endmacro %}
