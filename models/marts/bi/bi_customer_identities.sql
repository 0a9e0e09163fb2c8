{{ config(alias='customer_identities') }}

{{ tianwen.masked_view('customer_identities') }}
