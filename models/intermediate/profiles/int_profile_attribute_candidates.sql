{#- Every value any source gives for an attribute of the golden profile, one row per
    (customer, attribute, source, value) with how often and when it was seen. Identifier
    attributes (mobile, e-mail) take only the customer's own usable identifiers, so junk
    and rule-breaking values never become a best mobile. customer_profile_attributes ranks
    these by the survivorship_rules seed. -#}

with

occurrences as (
    select * from {{ ref('int_identifier_occurrences_unioned') }}
),

identities as (
    select * from {{ ref('customer_identities') }}
),

records as (
    select * from {{ ref('int_profile_records_resolved') }}
),

members as (
    select * from {{ ref('stg_crm__members') }}
),

followers as (
    select * from {{ ref('stg_wechat__followers') }}
),

identifier_values as (
    select
        identities.customer_id,
        occurrences.identifier_type as attribute_name,
        occurrences.source_name,
        occurrences.identifier_value as attribute_value,
        occurrences.observed_at
    from occurrences
    inner join identities
        on
            occurrences.identifier_type = identities.identifier_type
            and occurrences.identifier_value = identities.identifier_value
    where occurrences.identifier_type in ('mobile', 'email')
),

member_records as (
    select
        records.customer_id,
        members.*
    from members
    inner join records
        on
            records.source_name = 'crm_members'
            and members.member_id = records.record_key
),

{%- set member_attributes = {
    'full_name': 'full_name',
    'gender': "nullif(gender, 'U')",
    'birth_date': 'birth_date',
    'province': 'province',
    'city': 'city',
    'loyalty_tier': 'loyalty_tier',
} %}

member_values as (
    {%- for attribute_name, expression in member_attributes.items() %}
    select
        customer_id,
        '{{ attribute_name }}' as attribute_name,
        'crm_members' as source_name,
        cast({{ expression }} as {{ dbt.type_string() }}) as attribute_value,
        updated_at as observed_at
    from member_records
    union all
    {%- endfor %}
    select
        customer_id,
        'member_since' as attribute_name,
        'crm_members' as source_name,
        cast(registered_at as {{ dbt.type_string() }}) as attribute_value,
        registered_at as observed_at
    from member_records
    union all
    select
        customer_id,
        'register_channel' as attribute_name,
        'crm_members' as source_name,
        register_channel as attribute_value,
        registered_at as observed_at
    from member_records
),

follower_values as (
    select
        records.customer_id,
        'wechat_follow_state' as attribute_name,
        'wechat_followers' as source_name,
        case when followers.is_subscribed then 'subscribed' else 'unsubscribed' end as attribute_value,
        followers.updated_at as observed_at
    from followers
    inner join records
        on
            records.source_name = 'wechat_followers'
            and followers.openid = records.record_key
),

unioned as (
    select * from identifier_values
    union all
    select * from member_values
    union all
    select * from follower_values
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(attribute_name as {{ dbt.type_string() }}) as attribute_name,
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        cast(attribute_value as {{ dbt.type_string() }}) as attribute_value,
        cast(count(*) as {{ dbt.type_bigint() }}) as occurrences,
        cast(min(observed_at) as {{ dbt.type_timestamp() }}) as first_observed_at,
        cast(max(observed_at) as {{ dbt.type_timestamp() }}) as last_observed_at
    from unioned
    group by customer_id, attribute_name, source_name, attribute_value
)

select * from final
