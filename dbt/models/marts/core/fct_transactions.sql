{{ config(
    cluster_by=['transaction_date', 'user_id'],
    meta={'search_optimization_equality': ['user_id', 'merchant_category', 'payment_method']},
) }}

select
    transaction_id,
    transaction_sk,
    user_id,
    transaction_date,
    transaction_timestamp,
    {{ dbt.date_trunc('hour', 'transaction_timestamp') }} as transaction_hour,
    amount,
    currency,
    amount_usd,
    payment_method,
    merchant_category,
    status,
    status = 'completed' as is_completed,
    is_flagged,
    created_at,
    updated_at,
    processed_at
from {{ ref('stg_transactions__transactions') }}
