{{ config(alias='customer_scores') }}

{{ tianwen.masked_view('customer_scores') }}
