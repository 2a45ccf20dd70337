{#- One row per user and day with activity: events, sessions and the funnel events marketing follows.

    The design's materialized view mv_customer_activity. dbt-snowflake has no materialized-view
    materialization; on Snowflake this is its self-refreshing equivalent, a dynamic table that Snowflake
    refreshes within target_lag of a change to fct_customer_events. Other engines build a table. Serves personalisation lookups of one user's recent days:
        select * from fct_daily_customer_activity where user_id = ? and activity_date >= ? -#}
{%- if target.type == 'snowflake' -%}
{{ config(materialized='dynamic_table', target_lag='1 hour', snowflake_warehouse=target.warehouse, refresh_mode='auto') }}
{%- endif %}

select
    user_id,
    event_date as activity_date,
    count(*) as total_events,
    count(distinct session_id) as session_count,
    count(distinct event_type) as event_type_count,
    min(event_timestamp) as first_activity_at,
    max(event_timestamp) as last_activity_at,
    count(case when event_type = 'page_view' then 1 end) as page_views,
    count(case when event_type = 'cart_add' then 1 end) as cart_adds,
    count(case when event_type = 'purchase' then 1 end) as purchase_events
from {{ ref('fct_customer_events') }}
group by user_id, event_date
