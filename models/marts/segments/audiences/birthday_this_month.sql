{#- Care: customers whose golden birth date falls in the as-of month. -#}
{{ config(meta={
    'segment_id': 'birthday_this_month',
    'description': 'Birthday in the current month (golden birth date): care.',
    'owner': 'loyalty-team',
    'channel': 'wechat',
}) }}

with

profiles as (
    select * from {{ ref('customer_profiles') }}
),

as_of as (
    select * from {{ ref('int_profile_as_of') }}
),

final as (
    select profiles.customer_id
    from profiles
    cross join as_of
    where extract(month from profiles.birth_date) = extract(month from as_of.as_of_date)
)

select * from final
