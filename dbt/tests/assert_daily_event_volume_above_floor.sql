{#- The seed's volume check: each day with events has at least a floor of distinct active users (1,000 in
    prod). A warning, not an error: a quiet day is worth a look, not a stopped build. The floor is per
    target (var daily_active_users_floor). -#}
{{ config(severity='warn') }}
{%- set floors = var('daily_active_users_floor') -%}
{%- set floor = floors.get(target.name, floors['default']) %}

select
    event_date,
    count(distinct user_id) as active_users
from {{ ref('fct_customer_events') }}
group by event_date
having count(distinct user_id) < {{ floor }}
