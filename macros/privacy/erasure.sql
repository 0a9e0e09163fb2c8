{#- Erasure (docs/privacy.md). orchestration/privacy/erasure.py resolves each erasure request
    to the person's identifiers and puts their keyed hashes on the suppression list
    (privacy.erased_identifiers); from then on, before the base model of a source builds, its
    pre-hook (erase_suppressed_rows) deletes the raw rows that carry a suppressed identifier,
    so the person is removed now and is not rebuilt from a late batch. Each deletion is
    counted in privacy.erasure_deletions (no personal data), which source_reconciliation adds
    back. -#}
{% macro create_erasure_tables() -%}
create schema if not exists privacy;
create table if not exists privacy.erasure_hash_key (
    hash_key varchar(64) not null
);
insert into privacy.erasure_hash_key (hash_key)
select {{ tianwen.random_key() }}
where not exists (select 1 from privacy.erasure_hash_key);
create table if not exists privacy.erased_identifiers (
    identifier_type varchar(32) not null,
    identifier_hash varchar(64) not null,
    erasure_run_id varchar(64) not null,
    suppressed_at timestamp not null,
    primary key (identifier_type, identifier_hash)
);
create table if not exists privacy.erasure_outcomes (
    request_id varchar(200) not null primary key,
    identifier_type varchar(32),
    requested_at timestamp,
    outcome varchar(32) not null,
    erasure_run_id varchar(64) not null,
    customers_erased integer not null,
    identifiers_suppressed integer not null,
    audiences_notified integer not null,
    syncs_to_forward varchar(1000),
    files_rewritten integer not null,
    completed_at timestamp not null
);
create table if not exists privacy.erasure_deletions (
    erasure_run_id varchar(64) not null,
    table_name varchar(200) not null,
    source_name varchar(64),
    deleted_rows bigint not null,
    deleted_at timestamp not null
);
create table if not exists privacy.erasure_checks (
    table_name varchar(200) not null primary key,
    suppression_list_state varchar(100) not null,
    checked_at timestamp not null
)
{%- endmacro %}


{#- sha256 (lower-case hex) of the warehouse's erasure key (a column `erasure_hash_key` in
    scope), the identifier type and the normalised value: the suppression list holds only these. Python computes the same
    (orchestration/privacy/erasure.py: identifier_hash). -#}
{% macro erasure_hash(type_sql, value_sql) -%}
    {{ return(adapter.dispatch('erasure_hash', 'tianwen')(type_sql, value_sql)) }}
{%- endmacro %}

{% macro default__erasure_hash(type_sql, value_sql) -%}
    sha256(erasure_hash_key || ':' || {{ type_sql }} || ':' || {{ value_sql }})
{%- endmacro %}

{% macro spark__erasure_hash(type_sql, value_sql) -%}
    sha2(erasure_hash_key || ':' || {{ type_sql }} || ':' || {{ value_sql }}, 256)
{%- endmacro %}

{% macro postgres__erasure_hash(type_sql, value_sql) -%}
    encode(sha256(convert_to(erasure_hash_key || ':' || {{ type_sql }} || ':' || {{ value_sql }}, 'UTF8')), 'hex')
{%- endmacro %}


{#- The identifier columns of a raw table, as (type sql, normalised value sql) pairs: the
    declared identifier columns of the source (var tianwen_sources), and identifier_type /
    identifier_value pairs (consent events, channel engagements). -#}
{% macro _erasure_identifier_pairs(spec, raw) -%}
    {%- set pairs = [] -%}
    {%- for column in spec.identifiers -%}
        {%- do pairs.append(("'" ~ column ~ "'", normalize_identifier(column, column))) -%}
    {%- endfor -%}
    {%- set columns = adapter.get_columns_in_relation(raw) | map(attribute='name') | map('lower') | list -%}
    {%- if 'identifier_type' in columns and 'identifier_value' in columns -%}
        {%- do pairs.append(("lower(trim(identifier_type))",
                             normalize_identifier_by_type('identifier_type', 'identifier_value'))) -%}
    {%- endif -%}
    {{ return(pairs) }}
{%- endmacro %}


{#- Pre-hook of every staging model; acts for base models of sources with identifiers, and only
    when the suppression list is not empty (a build with no erasures pays one count). Every raw
    row is checked against the whole list once the list changes (privacy.erasure_checks keeps
    the list's state at each table's last whole check); until it changes again, an incremental
    build checks only the batches its base model has not seen, so a late batch carrying an
    erased identifier is still deleted before it is staged. Erasure requests are not touched
    here: orchestration/privacy/erasure.py deletes each once it has recorded its outcome. -#}
{% macro erase_suppressed_rows() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set ns = namespace(name=none, spec=none, scope='') -%}
    {%- set ns.name, ns.spec = base_model_source() -%}
    {%- if ns.name is none or ns.name == 'erasure_requests' -%}{{ return('') }}{%- endif -%}
    {%- set list_state = run_query('select count(*), max(suppressed_at) from privacy.erased_identifiers').rows[0] -%}
    {%- if list_state[0] == 0 -%}{{ return('') }}{%- endif -%}
    {%- set raw = source(ns.spec.source[0], ns.spec.source[1]) -%}
    {%- set pairs = _erasure_identifier_pairs(ns.spec, raw) -%}
    {%- if not pairs -%}{{ return('') }}{%- endif -%}
    {%- set table_name = raw.schema ~ '.' ~ raw.identifier -%}
    {%- set state = list_state[0] ~ ' identifiers, latest ' ~ list_state[1] -%}
    {%- set checked = run_query("select suppression_list_state from privacy.erasure_checks where table_name = '"
                                ~ table_name ~ "'").columns[0].values() -%}
    {%- set ns.scope = '' -%}
    {%- if is_incremental() and checked | length == 1 and checked[0] == state -%}
        {#- the list has not changed since every row of the batches this model has seen was
            checked: only new batches, named as constants so the engine filters before hashing -#}
        {%- set new_batches = tianwen.batches_not_built(raw) -%}
        {%- if not new_batches -%}{{ return('') }}{%- endif -%}
        {%- set ns.scope = '_batch_id in (' ~ tianwen.sql_literal_list(new_batches) ~ ') and (' -%}
    {%- endif -%}
    {%- set matches -%}
        {{ ns.scope }}
        {%- for type_sql, value_sql in pairs %}
        {% if not loop.first %}or {% endif %}exists (
            select 1
            from (
                -- renamed: the raw table's own identifier_type must bind to the raw row
                select
                    erased.identifier_type as suppressed_type,
                    erased.identifier_hash as suppressed_hash,
                    erasure_key.hash_key as erasure_hash_key
                from privacy.erased_identifiers as erased
                cross join privacy.erasure_hash_key as erasure_key
            ) as suppressed
            where
                suppressed.suppressed_type = {{ type_sql }}
                and suppressed.suppressed_hash = {{ erasure_hash(type_sql, value_sql) }}
        )
        {%- endfor %}
        {{ ')' if ns.scope }}
    {%- endset %}
insert into privacy.erasure_deletions (erasure_run_id, table_name, source_name, deleted_rows, deleted_at)
select
    'build:{{ invocation_id }}',
    '{{ raw.schema }}.{{ raw.identifier }}',
    '{{ ns.name }}',
    count(*),
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
from {{ raw }}
where {{ matches }}
having count(*) > 0;
delete from {{ raw }} where {{ matches }}
{%- if not ns.scope %};
delete from privacy.erasure_checks where table_name = '{{ table_name }}';
insert into privacy.erasure_checks (table_name, suppression_list_state, checked_at)
values (
    '{{ table_name }}',
    '{{ state }}',
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
)
{%- endif %}
{%- endmacro %}
