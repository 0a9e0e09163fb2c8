{#- Each customer's latest consent per channel (email, sms, push, wechat, ads): a consent
    event for channel 'all' counts for every channel. Later events win; at the same instant
    a revocation wins, so a tie never opts anyone in. -#}
{%- set channels = ['email', 'sms', 'push', 'wechat', 'ads'] %}

with

consent_events as (
    select * from {{ ref('stg_privacy__consent_events') }}
),

identities as (
    select * from {{ ref('customer_identities') }}
),

channels as (
    {%- for channel in channels %}
    select '{{ channel }}' as channel{% if not loop.last %}
    union all{% endif %}
    {%- endfor %}
),

events as (
    select
        identities.customer_id,
        channels.channel,
        consent_events.event_id,
        consent_events.is_granted,
        consent_events.event_at
    from consent_events
    inner join identities
        on
            consent_events.identifier_type = identities.identifier_type
            and consent_events.identifier_value = identities.identifier_value
    inner join channels
        on consent_events.channel in (channels.channel, 'all')
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, channel
            order by event_at desc, case when is_granted then 1 else 0 end, event_id desc
        ) as event_rank
    from events
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(channel as {{ dbt.type_string() }}) as channel,
        is_granted,
        cast(event_at as {{ dbt.type_timestamp() }}) as event_at
    from ranked
    where event_rank = 1
)

select * from final
