{{ config(alias='cluster_profiles') }}

{{ tianwen.masked_view('cluster_profiles') }}
