{{ config(alias='customer_product_affinity') }}

{{ tianwen.masked_view('customer_product_affinity') }}
