{{ config(unique_key='order_id') }}
{#- typed as the key column; an incremental build re-reads every raw row of a changed key -#}
{%- set key = clean_text('order_id') -%}
{%- set checks = [
    {'reason': 'missing_key', 'column': 'order_id',
        'when': 'order_id is null or raw_line_no is null'},
    {'reason': 'invalid_value', 'column': 'line_no'},
    {'reason': 'invalid_value', 'column': 'quantity'},
    {'reason': 'invalid_value', 'column': 'unit_price'},
    {'reason': 'impossible_value', 'column': 'line_no', 'when': 'line_no < 1'},
    {'reason': 'impossible_value', 'column': 'quantity', 'when': 'quantity < 1'},
    {'reason': 'impossible_value', 'column': 'unit_price',
        'when': 'unit_price < 0 or unit_price > ' ~ var('max_amount')},
] -%}

with

source as (
    {{ changed_rows(source('shop', 'order_items'), key) }}
),

typed as (
    select
        {{ dbt.concat([clean_text('order_id'), "'-'", clean_text('line_no')]) }} as record_key,
        {{ key }} as order_id,
        {{ parse_integer('line_no') }} as line_no,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('category') }} as category,
        {{ parse_integer('quantity') }} as quantity,
        {{ parse_decimal('unit_price') }} as unit_price,
        {{ raw_columns(['line_no', 'quantity', 'unit_price']) }}
        {{ load_columns() }}
    from source
),

{{ quarantine_and_rank(checks, ['order_id', 'line_no']) }}

select * from ranked
