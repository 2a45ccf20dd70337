with source as (
    select * from {{ source('events', 'user_events') }}
),

cleaned as (
    select
        event_id,
        user_id,
        session_id,
        lower(trim(event_type)) as event_type,
        {{ safe_cast_timestamp('event_timestamp') }} as event_timestamp,
        event_date,
        page_url,
        nullif(trim(referrer), '') as referrer,
        lower(trim(device_type)) as device_type,
        {{ standardize_country_code('country_code') }} as country_code,
        event_properties,
        schema_version,
        kafka_partition,
        kafka_offset,
        {{ safe_cast_timestamp('processed_at') }} as processed_at
    from source
)

select
    *,
    {{ surrogate_key(['event_id']) }} as event_sk
from cleaned
