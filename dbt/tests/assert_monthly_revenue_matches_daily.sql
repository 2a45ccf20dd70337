{#- Monthly revenue must equal the sum of daily revenue for every month, within 0.01; a month present
    in only one of the two marts fails too. -#}
with daily_by_month as (
    select
        cast({{ dbt.date_trunc('month', 'revenue_date') }} as date) as revenue_month,
        sum(gross_revenue) as gross_revenue,
        sum(refunded_revenue) as refunded_revenue,
        sum(net_revenue) as net_revenue,
        sum(completed_orders) as completed_orders
    from {{ ref('fct_daily_revenue') }}
    group by 1
),

monthly as (
    select revenue_month, gross_revenue, refunded_revenue, net_revenue, completed_orders
    from {{ ref('fct_monthly_revenue') }}
)

select
    coalesce(daily_by_month.revenue_month, monthly.revenue_month) as revenue_month,
    daily_by_month.net_revenue as daily_net_revenue,
    monthly.net_revenue as monthly_net_revenue
from daily_by_month
full outer join monthly on daily_by_month.revenue_month = monthly.revenue_month
where daily_by_month.revenue_month is null
    or monthly.revenue_month is null
    or abs(daily_by_month.gross_revenue - monthly.gross_revenue) > 0.01
    or abs(daily_by_month.refunded_revenue - monthly.refunded_revenue) > 0.01
    or abs(daily_by_month.net_revenue - monthly.net_revenue) > 0.01
    or daily_by_month.completed_orders <> monthly.completed_orders
