{#- Valid orders up to the as-of time, one row per order_id (the earliest wins). -#}
with

orders as (
    select * from {{ ref('shopseg', 'stg_shop__orders') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

ranked as (
    select
        orders.*,
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
    where orders.order_id is not null
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
    cross join as_of
    where
        ranked.order_rank = 1
        and ranked.customer_id is not null
        and ranked.ordered_at <= as_of.as_of_at
        and ranked.order_total >= 0
        -- pending orders and words shop_status_map lacks are no purchase: counted, left out
        and ranked.status in ('completed', 'cancelled', 'returned')
)

select * from cleaned
