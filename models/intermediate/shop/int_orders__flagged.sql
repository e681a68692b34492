{#-
    Every order row of stg_shop__orders with its checks against the as-of time, and
    is_valid: no check excludes the row. int_orders__cleaned keeps the valid rows (one per
    order_id), data_quality_issues counts each flag: a rule lives in one flag only.
-#}
with

orders as (
    select * from {{ ref('shopseg', 'stg_shop__orders') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

dated as (
    select
        orders.*,
        coalesce(orders.ordered_at > as_of.future_cutoff_at, false) as is_ordered_in_future,
        coalesce(
            orders.ordered_at > as_of.as_of_at
            and orders.ordered_at <= as_of.future_cutoff_at,
            false
        ) as is_ordered_after_as_of
    from orders
    cross join as_of
),

flagged as (
    select
        *,
        not is_order_id_missing
        and not is_customer_id_missing
        and not is_ordered_at_missing
        and not is_ordered_after_as_of
        and not is_ordered_in_future
        and not is_total_missing
        and not is_total_not_finite
        and not is_total_beyond_max
        and not is_total_negative
        and not is_status_pending
        and not is_status_unmapped
            as is_valid
    from dated
)

select * from flagged
