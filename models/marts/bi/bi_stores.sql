{{ config(alias='stores') }}

{{ tianwen.masked_view('stores') }}
