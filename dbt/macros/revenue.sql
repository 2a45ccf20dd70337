{#- The revenue measures shared by the daily and monthly revenue marts, over rows of fct_orders.
    Net revenue is completed minus refunded order totals, as the platform design defines it. -#}
{% macro revenue_measures() -%}
    -- Amounts cast to the finance contracts' type: engines differ in the type of a sum (fakesnow: a float).
    cast(sum(case when order_status = 'completed' then order_total else 0 end) as decimal(38, 2)) as gross_revenue,
    cast(sum(case when order_status = 'refunded' then order_total else 0 end) as decimal(38, 2)) as refunded_revenue,
    cast(
        sum(
            case
                when order_status = 'completed' then order_total
                when order_status = 'refunded' then -order_total
                else 0
            end
        )
        as decimal(38, 2)
    ) as net_revenue,
    count(case when order_status = 'completed' then 1 end) as completed_orders,
    count(case when order_status = 'refunded' then 1 end) as refunded_orders,
    count(case when order_status = 'pending' then 1 end) as pending_orders,
    count(distinct customer_id) as unique_customers,
    count(distinct case when customer_order_sequence = 1 then customer_id end) as new_customers,
    -- bigint: DuckDB sums integers into a hugeint, which Snowflake does not know.
    cast(sum(case when order_status = 'completed' then coalesce(total_quantity, 0) else 0 end) as bigint) as units_sold
{%- endmacro %}

{#- Average order value (gross revenue per completed order) and net revenue per customer; 0 when undefined. -#}
{% macro revenue_ratios() -%}
    cast(
        case when completed_orders > 0 then round(gross_revenue / completed_orders, 2) else 0 end
        as decimal(18, 2)
    ) as avg_order_value,
    cast(
        case when unique_customers > 0 then round(net_revenue / unique_customers, 2) else 0 end
        as decimal(18, 2)
    ) as revenue_per_customer
{%- endmacro %}
