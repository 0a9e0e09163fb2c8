{#- The golden profile: one row per customer_id. Each attribute is the winning candidate
    of customer_profile_attributes (rules in the survivorship_rules seed); the rest is
    counted from the identity graph, orders, follower records and consent events. -#}

with

identities as (
    select * from {{ ref('customer_identities') }}
),

attributes as (
    select * from {{ ref('customer_profile_attributes') }}
    where is_winner
),

records as (
    select * from {{ ref('int_profile_records_resolved') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

consents as (
    select * from {{ ref('int_customer_consents_latest') }}
),

erasures as (
    select * from {{ ref('stg_privacy__erasure_requests') }}
),

customers as (
    select
        customer_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(*) as identifier_count
    from identities
    group by customer_id
),

winners as (
    select
        customer_id,
        {%- for attribute_name in ['mobile', 'email', 'full_name', 'gender', 'birth_date', 'province', 'city',
                                   'loyalty_tier', 'member_since', 'register_channel', 'wechat_follow_state'] %}
        max(case when attribute_name = '{{ attribute_name }}' then attribute_value end) as {{ attribute_name }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from attributes
    group by customer_id
),

source_names as (
    select distinct
        customer_id,
        source_name
    from records
),

sources_used as (
    select
        customer_id,
        {{ dbt.listagg('source_name', "','", 'order by source_name') }} as sources
    from source_names
    group by customer_id
),

order_channels as (
    select distinct
        customer_id,
        channel
    from orders
    where customer_id is not null and is_purchase
),

channels_used as (
    select
        customer_id,
        {{ dbt.listagg('channel', "','", 'order by channel') }} as channels
    from order_channels
    group by customer_id
),

consent_flags as (
    select
        customer_id,
    {%- for channel in ['email', 'sms', 'push', 'wechat', 'ads'] %}
    coalesce(max(case when channel = '{{ channel }}' and is_granted then 1 else 0 end), 0) = 1
        as has_{{ channel }}_consent
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
    from consents
    group by customer_id
),

erased as (
    select distinct identities.customer_id
    from erasures
    inner join identities
        on
            erasures.identifier_type = identities.identifier_type
            and erasures.identifier_value = identities.identifier_value
),

final as (
    select
        cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(winners.mobile as {{ dbt.type_string() }}) as mobile,
        cast(winners.email as {{ dbt.type_string() }}) as email,
        cast(winners.full_name as {{ dbt.type_string() }}) as full_name,
        cast(coalesce(winners.gender, 'U') as {{ dbt.type_string() }}) as gender,
        cast(winners.birth_date as date) as birth_date,
        cast(winners.province as {{ dbt.type_string() }}) as province,
        cast(winners.city as {{ dbt.type_string() }}) as city,
        cast(winners.loyalty_tier as {{ dbt.type_string() }}) as loyalty_tier,
        winners.member_since is not null as is_member,
        cast(winners.member_since as {{ dbt.type_timestamp() }}) as member_since,
        cast(winners.register_channel as {{ dbt.type_string() }}) as register_channel,
        cast(customers.first_seen_at as {{ dbt.type_timestamp() }}) as first_seen_at,
        cast(customers.last_seen_at as {{ dbt.type_timestamp() }}) as last_seen_at,
        cast(customers.identifier_count as {{ dbt.type_bigint() }}) as identifier_count,
        cast(sources_used.sources as {{ dbt.type_string() }}) as sources,
        cast(channels_used.channels as {{ dbt.type_string() }}) as purchase_channels,
        coalesce(winners.wechat_follow_state = 'subscribed', false) as is_wechat_follower,
        {%- for channel in ['email', 'sms', 'push', 'wechat', 'ads'] %}
        coalesce(consent_flags.has_{{ channel }}_consent, false) as has_{{ channel }}_consent,
        {%- endfor %}
        erased.customer_id is not null as has_erasure_request
    from customers
    left join winners on customers.customer_id = winners.customer_id
    left join sources_used on customers.customer_id = sources_used.customer_id
    left join channels_used on customers.customer_id = channels_used.customer_id
    left join consent_flags on customers.customer_id = consent_flags.customer_id
    left join erased on customers.customer_id = erased.customer_id
)

select * from final
