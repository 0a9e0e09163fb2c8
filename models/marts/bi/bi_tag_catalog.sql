{{ config(alias='tag_catalog') }}

{{ tianwen.masked_view('tag_catalog') }}
