with source as (
    select * from {{ source('users', 'users') }}
),

cleaned as (
    select
        user_id,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(full_name), '') as full_name,
        {{ standardize_country_code('country_code') }} as country_code,
        {{ safe_cast_timestamp('created_at') }} as created_at,
        {{ safe_cast_timestamp('last_login_at') }} as last_login_at,
        {{ safe_cast_timestamp('updated_at') }} as updated_at
    from source
)

select
    *,
    {{ surrogate_key(['user_id']) }} as user_sk
from cleaned
