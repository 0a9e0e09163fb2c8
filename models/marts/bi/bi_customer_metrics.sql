{{ config(alias='customer_metrics') }}

{{ tianwen.masked_view('customer_metrics') }}
