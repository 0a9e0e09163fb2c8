{{ config(alias='products') }}

{{ tianwen.masked_view('products') }}
