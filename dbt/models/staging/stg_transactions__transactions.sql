with source as (
    select * from {{ source('transactions', 'transactions') }}
),

cleaned as (
    select
        transaction_id,
        user_id,
        amount,
        upper(trim(currency)) as currency,
        amount_usd,
        lower(trim(status)) as status,
        lower(trim(payment_method)) as payment_method,
        lower(trim(merchant_category)) as merchant_category,
        {{ safe_cast_timestamp('transaction_timestamp') }} as transaction_timestamp,
        transaction_date,
        {{ safe_cast_timestamp('created_at') }} as created_at,
        {{ safe_cast_timestamp('updated_at') }} as updated_at,
        coalesce(is_flagged, false) as is_flagged,
        fraud_reasons,
        schema_version,
        kafka_partition,
        kafka_offset,
        {{ safe_cast_timestamp('processed_at') }} as processed_at
    from source
)

select
    *,
    {{ surrogate_key(['transaction_id']) }} as transaction_sk
from cleaned
