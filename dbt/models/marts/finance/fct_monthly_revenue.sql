{#- Monthly revenue with month-over-month growth, built incrementally.

    An incremental run rebuilds every month from the earliest of: the newest month already built (it is
    still filling up) and the month of any order changed since the last build's newest order change, minus
    `incremental_lookback_hours` (late refunds, late commits). Later months are rebuilt too, since their
    growth depends on the month before. The month just before the rebuilt range is read back from this
    table, so the first rebuilt month still gets its growth instead of a null. An order moved to another month
    or deleted in the source leaves its old month stale until `dbt build --full-refresh`. -#}
{{ config(
    materialized='incremental',
    unique_key='revenue_month',
    on_schema_change='append_new_columns',
) }}

with orders as (
    select * from {{ ref('fct_orders') }}
),

{% if is_incremental() %}
rebuild_from as (
    select coalesce(min(revenue_month), cast('1900-01-01' as date)) as revenue_month
    from (
        select max(revenue_month) as revenue_month from {{ this }}
        union all
        select min(order_month) as revenue_month
        from orders
        where updated_at >= (
            select {{ dbt.dateadd('hour', -var('incremental_lookback_hours'), 'max(last_order_updated_at)') }}
            from {{ this }}
        )
    ) as candidates
),
{% endif %}

monthly as (
    select
        order_month as revenue_month,
        {{ revenue_measures() }},
        max(updated_at) as last_order_updated_at
    from orders
    {% if is_incremental() %}
    where order_month >= (select revenue_month from rebuild_from)
    {% endif %}
    group by order_month
),

months as (
    select revenue_month, net_revenue, true as is_rebuilt from monthly
    {% if is_incremental() %}
    union all
    select revenue_month, net_revenue, false as is_rebuilt
    from {{ this }}
    where revenue_month = cast({{ dbt.dateadd('month', -1, '(select revenue_month from rebuild_from)') }} as date)
    {% endif %}
),

with_previous as (
    select
        revenue_month,
        is_rebuilt,
        -- The previous calendar month's net revenue; null when that month had no orders.
        case
            when lag(revenue_month) over (order by revenue_month)
                = cast({{ dbt.dateadd('month', -1, 'revenue_month') }} as date)
            then lag(net_revenue) over (order by revenue_month)
        end as previous_month_revenue
    from months
)

select
    monthly.revenue_month,
    monthly.gross_revenue,
    monthly.refunded_revenue,
    monthly.net_revenue,
    monthly.completed_orders,
    monthly.refunded_orders,
    monthly.pending_orders,
    monthly.unique_customers,
    monthly.new_customers,
    monthly.units_sold,
    with_previous.previous_month_revenue,
    cast(
        case
            when with_previous.previous_month_revenue > 0 then round(
                100.0 * (monthly.net_revenue - with_previous.previous_month_revenue)
                / with_previous.previous_month_revenue,
                2
            )
        end
        as decimal(18, 2)
    ) as revenue_growth_pct,
    {{ revenue_ratios() }},
    monthly.last_order_updated_at
from monthly
inner join with_previous
    on monthly.revenue_month = with_previous.revenue_month and with_previous.is_rebuilt
