{{ config(alias='segment_sizes') }}

{{ tianwen.masked_view('segment_sizes') }}
