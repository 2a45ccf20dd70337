{#- Real-time revenue by hour over the last `real_time_revenue_days` days. A view over the staging view
    of the transactions source, so it is as fresh as the source itself (the external table's last refresh
    on Snowflake), not as the last dbt run. Amounts are in USD so currencies add up. -#}
{{ config(materialized='view') }}

select
    transaction_date,
    {{ dbt.date_trunc('hour', 'transaction_timestamp') }} as transaction_hour,
    count(*) as transaction_count,
    count(case when status = 'completed' then 1 end) as completed_transactions,
    cast(sum(case when status = 'completed' then amount_usd else 0 end) as decimal(38, 2)) as completed_revenue_usd,
    cast(sum(case when status = 'failed' then amount_usd else 0 end) as decimal(38, 2)) as failed_revenue_usd,
    cast(sum(case when status = 'refunded' then amount_usd else 0 end) as decimal(38, 2)) as refunded_revenue_usd,
    count(distinct user_id) as unique_customers,
    cast(round(avg(case when status = 'completed' then amount_usd end), 2) as decimal(18, 2))
        as avg_transaction_value_usd,
    count(case when is_flagged then 1 end) as flagged_transactions
from {{ ref('stg_transactions__transactions') }}
where transaction_timestamp >= cast({{ dbt.dateadd('day', -var('real_time_revenue_days'), as_of_date()) }} as timestamp)
group by 1, 2
