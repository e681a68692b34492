{#-
    Every customer seen anywhere up to the as-of time: customers, orders or events. A row
    without a date counts; a row dated after the as-of time (the flags of the
    int_<table>__flagged views) does not.
-#}
with

customers as (
    select * from {{ ref('shopseg', 'int_customers__flagged') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__flagged') }}
),

events as (
    select * from {{ ref('shopseg', 'int_events__flagged') }}
),

seen as (
    select
        customers.customer_id,
        'customers' as seen_in
    from customers
    where not customers.is_signed_up_after_as_of

    union all

    select
        orders.customer_id,
        'orders' as seen_in
    from orders
    where not (orders.is_ordered_after_as_of or orders.is_ordered_in_future)

    union all

    select
        events.customer_id,
        'events' as seen_in
    from events
    where not (events.is_occurred_after_as_of or events.is_occurred_in_future)
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
