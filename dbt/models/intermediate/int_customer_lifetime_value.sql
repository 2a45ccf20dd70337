{#- Customer lifetime value and RFM segment from completed orders, as the platform design defines them. -#}
with completed_orders as (
    select
        customer_id,
        order_id,
        order_date,
        order_total,
        lag(order_date) over (partition by customer_id order by order_date, order_id) as previous_order_date
    from {{ ref('stg_orders__orders') }}
    where order_status = 'completed'
),

customer_metrics as (
    select
        customer_id,
        sum(order_total) as total_revenue,
        avg(order_total) as avg_order_value,
        count(*) as total_orders,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        -- Frequency: the average gap between consecutive orders (null for a single order).
        avg(
            case when previous_order_date is not null
                then {{ dbt.datediff('previous_order_date', 'order_date', 'day') }}
            end
        ) as avg_days_between_orders,
        {{ dbt.datediff('max(order_date)', as_of_date(), 'day') }} as days_since_last_order
    from completed_orders
    group by customer_id
),

clv as (
    select
        *,
        -- (AOV x orders per year x gross margin) / churn rate estimated from recency (bounded to [0.01, 1]);
        -- single-purchase customers (or all orders on one day) are worth AOV x margin.
        case
            when avg_days_between_orders > 0 then
                (avg_order_value * (365.0 / avg_days_between_orders) * {{ var('clv_gross_margin') }})
                / greatest(0.01, least(1.0, days_since_last_order / 365.0))
            else avg_order_value * {{ var('clv_gross_margin') }}
        end as estimated_clv,
        case
            when days_since_last_order <= 30 and total_orders >= 5 and total_revenue >= 1000 then 'VIP'
            when days_since_last_order <= 90 and total_orders >= 3 then 'Active'
            when days_since_last_order <= 180 and total_orders >= 2 then 'At Risk'
            when days_since_last_order > 180 then 'Churned'
            else 'New'
        end as customer_segment
    from customer_metrics
)

select
    customer_id,
    total_orders,
    cast(total_revenue as decimal(18, 2)) as total_revenue,
    cast(round(avg_order_value, 2) as decimal(18, 2)) as avg_order_value,
    first_order_date,
    last_order_date,
    cast(round(avg_days_between_orders, 2) as decimal(18, 2)) as avg_days_between_orders,
    days_since_last_order,
    cast(round(estimated_clv, 2) as decimal(18, 2)) as estimated_clv,
    customer_segment
from clv
