{#- Every customer seen anywhere up to the as-of time: customers, orders or events. -#}
with

customers as (
    select * from {{ ref('shopseg', 'stg_shop__customers') }}
),

orders as (
    select * from {{ ref('shopseg', 'stg_shop__orders') }}
),

events as (
    select * from {{ ref('shopseg', 'stg_shop__events') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

seen as (
    select
        customers.customer_id,
        'customers' as seen_in
    from customers
    cross join as_of
    where coalesce(customers.signup_at <= as_of.as_of_at, true)

    union all

    select
        orders.customer_id,
        'orders' as seen_in
    from orders
    cross join as_of
    where coalesce(orders.ordered_at <= as_of.as_of_at, true)

    union all

    select
        events.customer_id,
        'events' as seen_in
    from events
    cross join as_of
    where coalesce(events.occurred_at <= as_of.as_of_at, true)
),

spine as (
    select
        customer_id,
        max(case when seen_in = 'customers' then 1 else 0 end) = 1 as is_registered,
        max(case when seen_in = 'orders' then 1 else 0 end) = 1 as has_orders,
        max(case when seen_in = 'events' then 1 else 0 end) = 1 as has_events
    from seen
    where customer_id is not null
    group by 1
)

select * from spine
