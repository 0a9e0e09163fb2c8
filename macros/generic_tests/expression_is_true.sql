{#- Fails for every row where the expression is not true (false or null). -#}
{% test expression_is_true(model, expression) %}
    {{ return(adapter.dispatch('test_expression_is_true', 'tianwen')(model, expression)) }}
{% endtest %}

{% macro default__test_expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endmacro %}
