{#- Every staged record that carries an identifier, with the customer it belongs to: the
    customer of its highest-priority identifier (identity_rules), so a record whose
    identifiers were split apart still lands on exactly one customer.

    An incremental record model (records_since): a build resolves again only the records
    whose identifiers were read again (newer occurrences) or changed customer (the identities
    differ from the copy this model keeps of them, <this>__identities). A change to the
    identity rules resolves every record again. -#}
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook=[
        "{{ run_statements(keep_input_copy(ref('customer_identities'), '__identities', ['identifier_type', 'identifier_value', 'customer_id'])) }}",
        "drop table if exists {{ work_relation(this, '__changed') }}",
    ],
) }}
{%- set occurrences_table = ref('int_identifier_occurrences_unioned') -%}
{%- set identities_table = ref('customer_identities') -%}
{%- set changed_table = work_relation(this, '__changed') -%}
{%- set fingerprint = rules_fingerprint([ref('identity_rules')]) -%}
{%- set ns = namespace(since=records_since(fingerprint)) -%}
{%- if ns.since is not none
      and adapter.get_relation(this.database, this.schema, this.identifier ~ '__identities') is none -%}
    {#- no copy of the identities to compare with: resolve everything -#}
    {%- do run_query("delete from " ~ this) -%}
    {%- set ns.since = none -%}
{%- endif -%}
{%- if ns.since is not none -%}
    {#- the identifiers whose customer changed, appeared or disappeared since the last build -#}
    {%- set columns = "identifier_type, identifier_value, customer_id" -%}
    {%- set copy = work_relation(this, '__identities') -%}
    {% do run_query("drop table if exists " ~ changed_table) %}
    {% do run_query(
        "create table " ~ changed_table ~ " as select distinct identifier_type, identifier_value from ("
        ~ "(select " ~ columns ~ " from " ~ identities_table ~ " except select " ~ columns ~ " from " ~ copy ~ ")"
        ~ " union all (select " ~ columns ~ " from " ~ copy ~ " except select " ~ columns ~ " from "
        ~ identities_table ~ ")) as d") %}
    {%- set reassigned -%}
        select occurrences.source_name, occurrences.record_key
        from {{ occurrences_table }} as occurrences
        inner join {{ changed_table }} as changed
            on
                occurrences.identifier_type = changed.identifier_type
                and occurrences.identifier_value = changed.identifier_value
    {%- endset -%}
    {%- do forget_records_not_in("select source_name, record_key from " ~ occurrences_table
                                 ~ " where built_at <= " ~ ns.since) -%}
    {%- do forget_records_in(reassigned) -%}
{%- endif %}

with

{% if ns.since is not none %}
touched as (
    select
        source_name,
        record_key
    from {{ occurrences_table }}
    where built_at > {{ ns.since }}
    union
    {{ reassigned }}
),

occurrences as (
    select all_occurrences.*
    from {{ occurrences_table }} as all_occurrences
    inner join touched
        on
            all_occurrences.source_name = touched.source_name
            and all_occurrences.record_key = touched.record_key
),
{% else %}
occurrences as (
    select * from {{ occurrences_table }}
),
{% endif %}

identities as (
    select * from {{ identities_table }}
),

rules as (
    select * from {{ ref('identity_rules') }}
),

ranked as (
    select
        occurrences.source_name,
        occurrences.record_key,
        identities.customer_id,
        row_number() over (
            partition by occurrences.source_name, occurrences.record_key
            order by rules.priority, identities.customer_id
        ) as customer_rank
    from occurrences
    inner join identities
        on
            occurrences.identifier_type = identities.identifier_type
            and occurrences.identifier_value = identities.identifier_value
    inner join rules
        on occurrences.identifier_type = rules.identifier_type
    where not occurrences.is_junk
),

final as (
    select
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        cast(record_key as {{ dbt.type_string() }}) as record_key,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        {{ run_timestamp() }} as built_at,
        cast({{ tianwen.sql_literal(fingerprint or '') }} as {{ dbt.type_string() }}) as rules_fingerprint
    from ranked
    where customer_rank = 1
)

select * from final
