{{ config(alias='customer_profile_attributes') }}

{{ tianwen.masked_view('customer_profile_attributes') }}
