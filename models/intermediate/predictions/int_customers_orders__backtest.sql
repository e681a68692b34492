{#-
    The backtest's data, one row per segmented customer with a completed order by the
    calibration end (the as-of time minus shop_prediction_horizon_days): the order summary
    the predictions would have seen then, and the orders of the held-out horizon after it.
-#}
with

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

bounds as (
    select
        as_of_at,
        {{ dbt.dateadd(
            'day',
            -1 * shop_var_number('shop_prediction_horizon_days', minimum=1, whole=true),
            'as_of_at',
        ) }} as calibration_end_at
    from as_of
),

completed as (
    select
        orders.customer_id,
        orders.ordered_at,
        orders.order_total,
        bounds.calibration_end_at
    from orders
    inner join segments
        on orders.customer_id = segments.customer_id
    cross join bounds
    where orders.is_completed
),

per_customer as (
    select
        customer_id,
        count(case when ordered_at <= calibration_end_at then 1 end) as order_count,
        min(case when ordered_at <= calibration_end_at then ordered_at end) as first_order_at,
        max(case when ordered_at <= calibration_end_at then ordered_at end) as last_order_at,
        sum(case when ordered_at <= calibration_end_at then order_total end) as monetary,
        count(case when ordered_at > calibration_end_at then 1 end) as holdout_order_count
    from completed
    group by 1
),

final as (
    select
        per_customer.customer_id,
        per_customer.order_count,
        per_customer.first_order_at,
        per_customer.last_order_at,
        per_customer.monetary,
        per_customer.holdout_order_count,
        bounds.calibration_end_at
    from per_customer
    cross join bounds
    where per_customer.order_count > 0
)

select * from final
