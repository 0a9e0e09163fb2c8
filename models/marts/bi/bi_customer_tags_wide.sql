{{ config(alias='customer_tags_wide') }}

{{ tianwen.masked_view('customer_tags_wide') }}
