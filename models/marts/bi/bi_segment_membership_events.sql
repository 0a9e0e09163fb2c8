{{ config(alias='segment_membership_events') }}

{{ tianwen.masked_view('segment_membership_events') }}
