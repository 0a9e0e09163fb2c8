{#- Consent and suppression, per customer and channel, for everything that leaves the
    warehouse (orchestration/activation reads only this). The latest consent event for the
    channel or for `all` wins; at the same instant a revocation wins, so a tie never opts
    anyone in. Without any event the channel's default (seed consent_channel_defaults)
    applies. A customer with an erasure request is never sendable, whatever the consent. -#}

with

customers as (
    select customer_id from {{ ref('customer_profiles') }}
),

identities as (
    select * from {{ ref('customer_identities') }}
),

consent_events as (
    select * from {{ ref('stg_privacy__consent_events') }}
),

erasure_requests as (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

channel_defaults as (
    select * from {{ ref('consent_channel_defaults') }}
),

events as (
    select
        identities.customer_id,
        channel_defaults.channel,
        consent_events.event_id,
        consent_events.is_granted,
        consent_events.event_at
    from consent_events
    inner join identities
        on
            consent_events.identifier_type = identities.identifier_type
            and consent_events.identifier_value = identities.identifier_value
    inner join channel_defaults
        on consent_events.channel in (channel_defaults.channel, 'all')
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

latest as (
    select * from ranked
    where event_rank = 1
),

erased as (
    select
        identities.customer_id,
        min(erasure_requests.requested_at) as erasure_requested_at
    from erasure_requests
    inner join identities
        on
            erasure_requests.identifier_type = identities.identifier_type
            and erasure_requests.identifier_value = identities.identifier_value
    group by identities.customer_id
),

final as (
    select
        cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(channel_defaults.channel as {{ dbt.type_string() }}) as channel,
        coalesce(latest.is_granted, channel_defaults.is_granted_by_default) as is_granted,
        latest.event_id is null as is_default,
        cast(latest.event_at as {{ dbt.type_timestamp() }}) as consent_event_at,
        erased.customer_id is not null as is_erased,
        cast(erased.erasure_requested_at as {{ dbt.type_timestamp() }}) as erasure_requested_at,
        coalesce(latest.is_granted, channel_defaults.is_granted_by_default)
        and erased.customer_id is null as is_sendable
    from customers
    cross join channel_defaults
    left join latest
        on
            customers.customer_id = latest.customer_id
            and channel_defaults.channel = latest.channel
    left join erased on customers.customer_id = erased.customer_id
)

select * from final
