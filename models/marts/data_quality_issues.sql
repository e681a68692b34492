{#-
    One row per input check: how many rows of which table had which problem, and what
    shopseg did about it (excluded, repaired or kept). Every check is listed, with 0
    when the input is clean, so a dashboard can chart it over time.
-#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

events as (
    select * from {{ ref('stg_shop__events') }}
),

order_items as (
    select * from {{ ref('stg_shop__order_items') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

as_of as (
    select * from {{ ref('int_shop__as_of') }}
),

spine as (
    select * from {{ ref('int_customers_spine') }}
),

registered as (
    select distinct customer_id from customers
    where customer_id is not null
),

registered_count as (
    select count(*) as customers from registered
),

order_ids as (
    select
        order_id,
        count(*) as copies
    from orders
    where order_id is not null
    group by 1
),

customer_ids as (
    select
        customer_id,
        count(*) as copies
    from customers
    where customer_id is not null
    group by 1
),

input_customers as (
    select customer_id from customers
    where customer_id is not null
    union
    select customer_id from orders
    where customer_id is not null
    union
    select customer_id from events
    where customer_id is not null
),

product_ids as (
    select
        product_id,
        count(*) as copies
    from products
    where product_id is not null
    group by 1
),

checks as (
    select
        'orders' as table_name,
        'order_id missing' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    where order_id is null

    union all

    select
        'orders' as table_name,
        'order_id duplicated (extra copies)' as problem,
        'excluded' as handling,
        coalesce(sum(copies - 1), 0) as rows_affected
    from order_ids
    where copies > 1

    union all

    select
        'orders' as table_name,
        'customer_id missing' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    where customer_id is null

    union all

    select
        'orders' as table_name,
        'ordered_at missing or not a timestamp' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    where ordered_at is null

    union all

    select
        'orders' as table_name,
        'ordered_at after the as-of time' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    cross join as_of
    where orders.ordered_at > as_of.as_of_at

    union all

    select
        'orders' as table_name,
        'order_total missing or not a number' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    where orders.order_total is null and not orders.is_total_out_of_range

    union all

    select
        'orders' as table_name,
        'order_total NaN or infinite' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    where is_total_not_finite

    union all

    select
        'orders' as table_name,
        'order_total beyond shop_max_order_total' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    where is_total_out_of_range and not is_total_not_finite

    union all

    select
        'orders' as table_name,
        'order_total negative' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from orders
    where order_total < 0

    union all

    select
        'orders' as table_name,
        'status not completed, cancelled or returned' as problem,
        'kept, counted as neither' as handling,
        count(*) as rows_affected
    from orders
    where status not in ('completed', 'cancelled', 'returned')

    union all

    select
        'orders' as table_name,
        'customer not in customers' as problem,
        'kept, customer created' as handling,
        count(*) as rows_affected
    from orders
    cross join registered_count
    left join registered
        on orders.customer_id = registered.customer_id
    where
        orders.customer_id is not null
        and registered.customer_id is null
        and registered_count.customers > 0

    union all

    select
        'customers' as table_name,
        'customer_id missing' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from customers
    where customer_id is null

    union all

    select
        'customers' as table_name,
        'customer_id duplicated (extra copies)' as problem,
        'excluded, earliest sign-up kept' as handling,
        coalesce(sum(copies - 1), 0) as rows_affected
    from customer_ids
    where copies > 1

    union all

    select
        'customers' as table_name,
        'signup_at after the as-of time' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from customers
    cross join as_of
    where customers.signup_at > as_of.as_of_at

    union all

    select
        'customers' as table_name,
        'income negative' as problem,
        'repaired, set to null' as handling,
        count(*) as rows_affected
    from customers
    where income < 0

    union all

    select
        'events' as table_name,
        'customer_id missing (anonymous)' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from events
    where customer_id is null

    union all

    select
        'events' as table_name,
        'customer not in customers' as problem,
        'kept, customer created' as handling,
        count(*) as rows_affected
    from events
    cross join registered_count
    left join registered
        on events.customer_id = registered.customer_id
    where
        events.customer_id is not null
        and registered.customer_id is null
        and registered_count.customers > 0

    union all

    select
        'events' as table_name,
        'occurred_at missing or not a timestamp' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from events
    where occurred_at is null

    union all

    select
        'events' as table_name,
        'occurred_at after the as-of time' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from events
    cross join as_of
    where events.occurred_at > as_of.as_of_at

    union all

    select
        'events' as table_name,
        'session_id missing' as problem,
        'repaired, sessions rebuilt from inactivity gaps' as handling,
        count(*) as rows_affected
    from events
    where session_id is null and customer_id is not null

    union all

    select
        'order_items' as table_name,
        'order not in orders' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from order_items
    left join order_ids
        on order_items.order_id = order_ids.order_id
    where order_ids.order_id is null

    union all

    select
        'order_items' as table_name,
        'quantity not positive or unit_price negative' as problem,
        'excluded' as handling,
        count(*) as rows_affected
    from order_items
    where not (quantity > 0 and unit_price >= 0)

    union all

    select
        'all tables' as table_name,
        'customer seen only after the as-of time' as problem,
        'not segmented (counted per customer)' as handling,
        count(*) as rows_affected
    from input_customers
    left join spine
        on input_customers.customer_id = spine.customer_id
    where spine.customer_id is null

    union all

    select
        'products' as table_name,
        'product_id duplicated (extra copies)' as problem,
        'excluded, first category kept' as handling,
        coalesce(sum(copies - 1), 0) as rows_affected
    from product_ids
    where copies > 1
),

final as (
    select
        table_name,
        problem,
        handling,
        cast(rows_affected as {{ dbt.type_bigint() }}) as rows_affected
    from checks
)

select * from final
