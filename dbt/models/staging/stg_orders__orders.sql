with source as (
    select * from {{ source('orders', 'orders') }}
),

cleaned as (
    select
        order_id,
        customer_id,
        order_date,
        order_total,
        lower(trim(status)) as order_status,
        quantity,
        {{ safe_cast_timestamp('created_at') }} as created_at,
        {{ safe_cast_timestamp('updated_at') }} as updated_at
    from source
)

select
    *,
    {{ surrogate_key(['order_id']) }} as order_sk
from cleaned
