{#- One row per order, with the customer's order sequence (1 = the customer's first order of any status). -#}
with orders as (
    select * from {{ ref('stg_orders__orders') }}
),

customers as (
    select user_id, country_code from {{ ref('stg_users__users') }}
)

select
    orders.order_id,
    orders.order_sk,
    orders.customer_id,
    customers.country_code as customer_country_code,
    orders.order_date,
    cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as order_month,
    orders.order_status,
    orders.order_total,
    orders.quantity as total_quantity,
    row_number() over (
        partition by orders.customer_id order by orders.order_date, orders.order_id
    ) as customer_order_sequence,
    orders.created_at,
    orders.updated_at
from orders
left join customers on orders.customer_id = customers.user_id
