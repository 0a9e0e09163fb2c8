{{ config(alias='customer_tags') }}

{{ tianwen.masked_view('customer_tags') }}
