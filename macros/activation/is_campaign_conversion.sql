{#- A paid order converts a campaign assignment when it comes after the assignment and within
    var('campaign_effect_window_days') of it. One definition for campaign_effects and the
    campaign-response tags. -#}
{% macro is_campaign_conversion(assigned_at, ordered_at) -%}
    {{ assigned_at }} < {{ ordered_at }}
    and {{ dbt.dateadd('day', var('campaign_effect_window_days'), assigned_at) }} >= {{ ordered_at }}
{%- endmacro %}
