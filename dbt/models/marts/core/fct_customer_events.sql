{#- Append-mostly clickstream: each run merges the events written since the last run's newest
    processed_at, minus a lookback for late commits. -#}
{{ config(
    materialized='incremental',
    unique_key='event_id',
    on_schema_change='append_new_columns',
    cluster_by=['event_date', 'user_id', 'event_type'],
    meta={'search_optimization_equality': ['user_id', 'event_type', 'country_code']},
) }}

select
    event_id,
    event_sk,
    user_id,
    session_id,
    event_type,
    event_timestamp,
    event_date,
    page_url,
    referrer,
    device_type,
    country_code,
    event_properties,
    processed_at
from {{ ref('stg_events__user_events') }}
{% if is_incremental() %}
where processed_at >= coalesce(
    (select {{ dbt.dateadd('hour', -var('incremental_lookback_hours'), 'max(processed_at)') }} from {{ this }}),
    cast('1900-01-01' as timestamp)
)
{% endif %}
