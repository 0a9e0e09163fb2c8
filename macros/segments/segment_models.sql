{#- The segment models the framework collects (models/marts/segments/audiences/): dbt
    must know a model's dependencies before it runs, so they are listed here, and
    segment_meta() fails the build, naming this file, when a segment model is missing
    from the list or a listed model has no segment meta. -#}
{% macro segment_models() %}
{{ return([
    'browsed_never_bought',
    'browsed_or_carted_not_ordered_7d',
    'lapsed_buyers',
    'birthday_this_month',
    'high_value_at_risk',
    'new_members_first_30d',
    'wechat_followers_never_bought',
]) }}
{% endmacro %}


{#- Each listed segment's meta (segment_id, description, owner, channel), read from its
    model's config; checked against the models found under the audiences folder. -#}
{% macro segment_meta() %}
{%- set listed = tianwen.segment_models() -%}
{%- set metas = [] -%}
{%- if execute -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == 'tianwen'
        and 'audiences' in node.fqn and 'segments' in node.fqn -%}
        {%- do found.append(node.name) -%}
        {%- if node.name not in listed -%}
            {{ exceptions.raise_compiler_error("segment model " ~ node.name ~ " is not listed: add '" ~ node.name ~ "' to segment_models() in macros/segments/segment_models.sql") }}
        {%- endif -%}
        {%- set meta = node.config.meta -%}
        {%- for key in ['segment_id', 'description', 'owner', 'channel'] if not meta.get(key) -%}
            {{ exceptions.raise_compiler_error("segment model " ~ node.name ~ " has no meta." ~ key ~ ": set it in its config() block") }}
        {%- endfor -%}
        {%- do metas.append({'model': node.name, 'segment_id': meta.segment_id, 'description': meta.description,
                             'owner': meta.owner, 'channel': meta.channel}) -%}
    {%- endfor -%}
    {%- for name in listed if name not in found -%}
        {{ exceptions.raise_compiler_error("segment " ~ name ~ " is listed in macros/segments/segment_models.sql but there is no model models/marts/segments/audiences/" ~ name ~ ".sql") }}
    {%- endfor -%}
{%- endif -%}
{{ return(metas | sort(attribute='segment_id')) }}
{% endmacro %}
