{#- Onboarding: members who registered in the 30 days up to the as-of date. -#}
{{ config(meta={
    'segment_id': 'new_members_first_30d',
    'description': 'Members in their first 30 days: onboarding.',
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
    where {{ tianwen.days_between(
        "cast(profiles.member_since as date)",
        "as_of.as_of_date"
    ) }} between 0 and 29
)

select * from final
