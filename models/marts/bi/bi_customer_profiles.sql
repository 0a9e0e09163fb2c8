{{ config(alias='customer_profiles') }}

{{ tianwen.masked_view('customer_profiles') }}
