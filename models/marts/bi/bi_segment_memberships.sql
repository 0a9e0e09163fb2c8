{{ config(alias='segment_memberships') }}

{{ tianwen.masked_view('segment_memberships') }}
