{{ config(alias='customer_id_merges') }}

{{ tianwen.masked_view('customer_id_merges') }}
