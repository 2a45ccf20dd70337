with daily as (
    select
        order_date as revenue_date,
        {{ revenue_measures() }}
    from {{ ref('fct_orders') }}
    group by order_date
)

select
    *,
    {{ revenue_ratios() }}
from daily
