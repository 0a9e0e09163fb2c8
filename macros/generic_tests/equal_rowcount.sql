{#- Fails (one row, both counts) when the model and compare_model hold different numbers of
    rows. The primary-key test of a view that shows another model's rows one for one (the
    bi views): with that model's own key test, it proves the view's key without grouping
    the view's rows again, and it still holds when masking makes two keys look alike. -#}
{% test equal_rowcount(model, compare_model) %}
    {{ return(adapter.dispatch('test_equal_rowcount', 'tianwen')(model, compare_model)) }}
{% endtest %}

{% macro default__test_equal_rowcount(model, compare_model) %}
with

counts as (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ compare_model }}) as compare_model_rows
)

select * from counts
where model_rows <> compare_model_rows
{% endmacro %}
