{#- Apache Spark (docs/engines.md): the few places where Spark SQL differs from the SQL the
    models are written in. Tables are Parquet, which has no row-level delete, update or
    constraints, and a Spark session runs one statement per call. -#}

{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro spark__epoch_ms_to_timestamp(milliseconds) -%}
    timestamp_millis(cast({{ milliseconds }} as bigint))
{%- endmacro %}

{#- dbt-spark's dateadd goes through unix seconds and fails for minutes; Spark has
    timestampadd. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}


{#- Hooks are written as one script of statements separated by `;` at the end of a line.
    Elsewhere the script runs as it is; on Spark each statement runs on its own, DDL in
    Spark's types and without constraints, and a `delete` as a rewrite (spark_delete). -#}
{% macro run_statements(sql) -%}
    {{ return(adapter.dispatch('run_statements', 'tianwen')(sql)) }}
{%- endmacro %}

{% macro default__run_statements(sql) -%}
    {{ return(sql) }}
{%- endmacro %}

{#- The same, run now (inside a macro rather than as a hook). -#}
{% macro execute_statements(sql) -%}
    {%- set remaining = tianwen.run_statements(sql) -%}
    {%- if remaining | trim -%}
        {%- do run_query(remaining) -%}
    {%- endif -%}
{%- endmacro %}

{% macro spark__run_statements(sql) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- for statement in modules.re.split(';[ \\t]*\\n', sql ~ '\n') if statement | trim -%}
        {%- set statement = statement | trim -%}
        {%- set delete = modules.re.match('(?is)^delete from ([^ ]+) where (.*)$', statement) -%}
        {%- if delete -%}
            {%- do tianwen.spark_delete(delete.group(1), delete.group(2)) -%}
        {%- else -%}
            {%- do run_query(tianwen.spark_ddl(statement)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- A table's DDL in Spark's terms: text and double precision named as Spark names them,
    no primary keys (informational only; the writers keep keys unique). The same rules for
    Python's DDL: orchestration.engines.dialect.table_ddl. -#}
{% macro spark_ddl(statement) -%}
    {%- if not modules.re.match('(?is)^create table', statement) -%}{{ return(statement) }}{%- endif -%}
    {%- set s = modules.re.sub('(?i),\\s*primary key \\([^)]*\\)', '', statement) -%}
    {%- set s = modules.re.sub('(?i) primary key', '', s) -%}
    {%- set s = modules.re.sub('(?i)\\bdouble precision\\b', 'double', s) -%}
    {%- set s = modules.re.sub('(?i)\\btext\\b', 'string', s) -%}
    {{ return(s) }}
{%- endmacro %}

{#- Parquet cannot delete, update or merge rows: a rewrite puts the rows the table is to hold
    in a work table (`<table>__keep`), which then overwrites the table (Spark cannot overwrite
    a table it is reading). The overwrite is not atomic: the work table is marked complete
    before it starts, and a killed rewrite is finished by the next rewrite of the table or by
    the finish_rewrites hook. The same steps in Python: SparkConnection._rewrite. -#}
{% macro spark_rewrite(relation, select) -%}
    {%- do tianwen.spark_finish_rewrite(relation) -%}
    {%- set keep = (relation | replace('`', '')) ~ '__keep' -%}
    {%- do run_query('create table ' ~ keep ~ ' using parquet as ' ~ select) -%}
    {%- do run_query('alter table ' ~ keep ~ " set tblproperties ('tianwen.rewrite' = 'complete')") -%}
    {%- do run_query('insert overwrite table ' ~ relation ~ ' select * from ' ~ keep) -%}
    {%- do run_query('drop table ' ~ keep) -%}
{%- endmacro %}

{% macro spark_delete(relation, condition) -%}
    {%- do tianwen.spark_rewrite(relation, 'select * from ' ~ relation
                                 ~ ' where not coalesce((' ~ condition ~ '), false)') -%}
{%- endmacro %}

{#- A killed rewrite's work table: a complete one overwrites the table again, a partial one
    (the table not yet touched) is dropped. -#}
{% macro spark_finish_rewrite(relation) -%}
    {%- set table = relation | replace('`', '') -%}
    {%- set schema, name = table.split('.') -%}
    {%- if run_query('show tables in ' ~ schema ~ " like '" ~ name ~ "__keep'").rows | length -%}
        {%- set keep = table ~ '__keep' -%}
        {%- set ns = namespace(complete=false) -%}
        {%- for key, value in run_query('show tblproperties ' ~ keep).rows -%}
            {%- if key == 'tianwen.rewrite' and value == 'complete' -%}{%- set ns.complete = true -%}{%- endif -%}
        {%- endfor -%}
        {%- if ns.complete -%}
            {%- do run_query('insert overwrite table ' ~ table ~ ' select * from ' ~ keep) -%}
        {%- endif -%}
        {%- do run_query('drop table ' ~ keep) -%}
    {%- endif -%}
{%- endmacro %}

{#- on-run-start: every rewrite a killed process left is finished before the models read. -#}
{% macro finish_rewrites() -%}
    {{ return(adapter.dispatch('finish_rewrites', 'tianwen')()) }}
{%- endmacro %}

{% macro default__finish_rewrites() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__finish_rewrites() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- for schema in run_query('show databases').columns[0].values() -%}
        {%- for work in run_query('show tables in ' ~ schema ~ " like '*__keep'").columns[1].values() -%}
            {%- do tianwen.spark_finish_rewrite(schema ~ '.' ~ work[:-6]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- Contracts name text columns `varchar`, which Spark reads only with a length. -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ 'string' if type | lower | trim == 'varchar' else type }})
{%- endmacro %}

{#- dbt-spark loads seeds through bindings it puts between quotes unescaped, so a value with
    a quote breaks the insert: the values are written as escaped literals instead. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
        insert into {{ this.render() }} values
        {%- for row in chunk %}
            ({%- for col_name in agate_table.column_names -%}
                {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- set value = row[loop.index0] -%}
                cast({{ 'null' if value is none else tianwen.sql_literal(value) }} as {{ type }})
                {%- if not loop.last %}, {% endif -%}
            {%- endfor -%}){{ ',' if not loop.last }}
        {%- endfor %}
        {%- endset -%}
        {%- do run_query(sql) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- dbt-spark's listagg ignores the order; Spark 4 has listagg ... within group. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ return(dbt_spark.spark__listagg(measure, delimiter_text, order_by_clause, limit_num)) }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{#- Snapshots: dbt-spark's snapshot materialization, less its refusal of Parquet (it needs
    `merge`, which spark__snapshot_merge_sql below does without). -#}
{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}

  {%- set strategy_name = config.get('strategy') -%}
  {%- set unique_key = config.get('unique_key') %}
    {%- set grant_config = config.get('grants') -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% set final_sql = create_table_as(False, target_relation, build_sql) %}

  {% else %}

      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}

      {{ adapter.valid_snapshot_target(target_relation, columns) }}

      {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}

      -- this may no-op if the database does not require column expansion
      {% do adapter.expand_target_column_types(from_relation=staging_table,
                                               to_relation=target_relation) %}

      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'equalto', 'dbt_change_type')
                                   | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                   | rejectattr('name', 'equalto', 'dbt_unique_key')
                                   | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                   | list %}

      {% do create_columns(target_relation, missing_columns) %}

      {% set source_columns = adapter.get_columns_in_relation(staging_table)
                                   | rejectattr('name', 'equalto', 'dbt_change_type')
                                   | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                   | rejectattr('name', 'equalto', 'dbt_unique_key')
                                   | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                   | list %}

      {% set quoted_source_columns = [] %}
      {% for column in source_columns %}
        {% do quoted_source_columns.append(adapter.quote(column.name)) %}
      {% endfor %}

      {% set final_sql = snapshot_merge_sql(
            target = target_relation,
            source = staging_table,
            insert_cols = quoted_source_columns
         )
      %}

  {% endif %}

  {% call statement('main') %}
      {{ final_sql }}
  {% endcall %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {% if staging_table is defined %}
      {% do post_snapshot(staging_table) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}

{#- The snapshot merge without `merge`: the current rows a change closes get their
    valid-to, new versions are appended, and the result overwrites the table through a
    work table. The statement dbt then runs is a no-op. -#}
{% macro spark__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set names = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() -%}
    {%- set scd_id, valid_to = names.dbt_scd_id, names.dbt_valid_to -%}
    {%- set target_columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {#- the materialization quotes the column names (`name`) -#}
    {%- set inserted = insert_cols | map('lower') | map('replace', '`', '') | list -%}
    {%- if config.get("dbt_valid_to_current") -%}
        {%- set is_current = "(t." ~ valid_to ~ " = " ~ config.get("dbt_valid_to_current") ~ " or t." ~ valid_to ~ " is null)" -%}
    {%- else -%}
        {%- set is_current = "t." ~ valid_to ~ " is null" -%}
    {%- endif -%}
    {%- set merged -%}
        select
            {%- for column in target_columns %}
            {% if column | lower == valid_to | lower -%}
            case when s.{{ scd_id }} is not null then s.{{ valid_to }} else t.{{ valid_to }} end
            {%- else -%}
            t.{{ column }}
            {%- endif %} as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ target }} as t
        left join (
            select {{ scd_id }}, {{ valid_to }} from {{ source }}
            where dbt_change_type in ('update', 'delete')
        ) as s
            on s.{{ scd_id }} = t.{{ scd_id }} and {{ is_current }}
        union all
        select
            {%- for column in target_columns %}
            {{ column if column | lower in inserted else 'null' }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ source }}
        where dbt_change_type = 'insert'
    {%- endset -%}
    {%- do tianwen.spark_rewrite(target, merged) -%}
    select 1
{%- endmacro %}
