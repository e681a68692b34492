{#-
    Valid orders up to the as-of time, one row per order_id: the earliest row of an
    order_id wins, and the order is left out when that row is not valid (is_valid of
    int_orders__flagged, whose flags data_quality_issues counts).
-#}
with

orders as (
    select * from {{ ref('shopseg', 'int_orders__flagged') }}
),

ranked as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.order_total,
        orders.discount_amount,
        orders.status,
        orders.is_valid,
        row_number() over (
            partition by orders.order_id
            -- nulls last spelled out: Spark sorts them first (DuckDB, PostgreSQL last)
            order by
                orders.ordered_at nulls last,
                orders.customer_id nulls last,
                orders.order_total nulls last,
                orders.status,
                orders.status_word nulls last,
                orders.discount_amount nulls last
        ) as order_rank
    from orders
    where not orders.is_order_id_missing
),

cleaned as (
    select
        ranked.order_id,
        ranked.customer_id,
        ranked.ordered_at,
        ranked.order_total,
        coalesce(ranked.discount_amount, 0) as discount_amount,
        ranked.status,
        ranked.status = 'completed' as is_completed,
        ranked.status = 'cancelled' as is_cancelled,
        ranked.status = 'returned' as is_returned,
        coalesce(ranked.discount_amount, 0) > 0 as has_discount
    from ranked
    where
        ranked.order_rank = 1
        and ranked.is_valid
)

select * from cleaned
