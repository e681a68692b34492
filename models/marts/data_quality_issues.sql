{#-
    One row per input check: how many rows of which table had which problem, and what
    shopseg did about it (excluded, repaired or kept). Every check is listed, with 0
    when the input is clean, so a dashboard can chart it over time.

    Each input table feeds one aggregate (orders two: per customer and per order id) that
    counts all of its checks side by side (`count(case when <problem> then 1 end)`),
    grouped by the key the cross-table checks join on; the per-table totals are then
    turned into one row per check. (Formerly one scan per check: 50M events read 5 times.)
-#}
with

orders as (
    select * from {{ ref('shopseg', 'stg_shop__orders') }}
),

customers as (
    select * from {{ ref('shopseg', 'stg_shop__customers') }}
),

events as (
    select * from {{ ref('shopseg', 'stg_shop__events') }}
),

order_items as (
    select * from {{ ref('shopseg', 'stg_shop__order_items') }}
),

products as (
    select * from {{ ref('shopseg', 'stg_shop__products') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

spine as (
    select * from {{ ref('shopseg', 'int_customers_spine') }}
),

-- per customer_id (one null group for rows without one): copies and row checks
customers_per_id as (
    select
        customers.customer_id,
        count(*) as copies,
        count(case when customers.signup_at > as_of.as_of_at then 1 end) as signed_up_late,
        count(case when customers.income < 0 then 1 end) as negative_income
    from customers
    cross join as_of
    group by 1
),

-- per customer_id of the order rows (null group included): the row checks of orders
orders_per_customer as (
    select
        orders.customer_id,
        count(*) as order_rows,
        count(case when orders.order_id is null then 1 end) as missing_order_id,
        count(case when orders.ordered_at is null then 1 end) as missing_ordered_at,
        count(
            case
                when
                    orders.ordered_at > as_of.as_of_at
                    and orders.ordered_at <= as_of.future_cutoff_at
                    then 1
            end
        ) as ordered_late,
        count(case when orders.ordered_at > as_of.future_cutoff_at then 1 end) as ordered_in_future,
        count(
            case when orders.order_total is null and not orders.is_total_out_of_range then 1 end
        ) as missing_total,
        count(case when orders.is_total_not_finite then 1 end) as not_finite_total,
        count(
            case when orders.is_total_out_of_range and not orders.is_total_not_finite then 1 end
        ) as out_of_range_total,
        count(case when orders.order_total < 0 then 1 end) as negative_total,
        count(case when orders.status = 'unmapped' then 1 end) as unmapped_status,
        count(case when orders.status = 'pending' then 1 end) as pending_status
    from orders
    cross join as_of
    group by 1
),

-- per order_id: copies, for duplicates and for order items of unknown orders
order_ids as (
    select
        order_id,
        count(*) as copies
    from orders
    where order_id is not null
    group by 1
),

-- per customer_id of the events (null group: anonymous events): the row checks of events
events_per_customer as (
    select
        events.customer_id,
        count(*) as event_rows,
        count(case when events.occurred_at is null then 1 end) as missing_occurred_at,
        count(
            case
                when
                    events.occurred_at > as_of.as_of_at
                    and events.occurred_at <= as_of.future_cutoff_at
                    then 1
            end
        ) as occurred_late,
        count(case when events.occurred_at > as_of.future_cutoff_at then 1 end)
            as occurred_in_future,
        count(case when events.session_id is null then 1 end) as missing_session_id
    from events
    cross join as_of
    group by 1
),

customer_counts as (
    select
        coalesce(sum(case when customer_id is null then copies end), 0) as missing_customer_id,
        coalesce(sum(case when customer_id is not null then copies - 1 end), 0)
            as duplicated_customer_id,
        coalesce(sum(signed_up_late), 0) as signed_up_late,
        coalesce(sum(negative_income), 0) as negative_income,
        count(customer_id) as registered_customers
    from customers_per_id
),

-- customers_per_id holds each registered customer_id once, and its null group joins nothing
order_counts as (
    select
        coalesce(sum(orders_per_customer.missing_order_id), 0) as missing_order_id,
        coalesce(
            sum(
                case
                    when orders_per_customer.customer_id is null
                        then orders_per_customer.order_rows
                end
            ),
            0
        ) as missing_customer_id,
        coalesce(sum(orders_per_customer.missing_ordered_at), 0) as missing_ordered_at,
        coalesce(sum(orders_per_customer.ordered_late), 0) as ordered_late,
        coalesce(sum(orders_per_customer.ordered_in_future), 0) as ordered_in_future,
        coalesce(sum(orders_per_customer.missing_total), 0) as missing_total,
        coalesce(sum(orders_per_customer.not_finite_total), 0) as not_finite_total,
        coalesce(sum(orders_per_customer.out_of_range_total), 0) as out_of_range_total,
        coalesce(sum(orders_per_customer.negative_total), 0) as negative_total,
        coalesce(sum(orders_per_customer.unmapped_status), 0) as unmapped_status,
        coalesce(sum(orders_per_customer.pending_status), 0) as pending_status,
        coalesce(
            sum(
                case
                    when
                        orders_per_customer.customer_id is not null
                        and customers_per_id.customer_id is null
                        then orders_per_customer.order_rows
                end
            ),
            0
        ) as unregistered_customer
    from orders_per_customer
    left join customers_per_id
        on orders_per_customer.customer_id = customers_per_id.customer_id
),

event_counts as (
    select
        coalesce(
            sum(
                case
                    when events_per_customer.customer_id is null
                        then events_per_customer.event_rows
                end
            ),
            0
        ) as missing_customer_id,
        coalesce(
            sum(
                case
                    when
                        events_per_customer.customer_id is not null
                        and customers_per_id.customer_id is null
                        then events_per_customer.event_rows
                end
            ),
            0
        ) as unregistered_customer,
        coalesce(sum(events_per_customer.missing_occurred_at), 0) as missing_occurred_at,
        coalesce(sum(events_per_customer.occurred_late), 0) as occurred_late,
        coalesce(sum(events_per_customer.occurred_in_future), 0) as occurred_in_future,
        coalesce(
            sum(
                case
                    when events_per_customer.customer_id is not null
                        then events_per_customer.missing_session_id
                end
            ),
            0
        ) as missing_session_id
    from events_per_customer
    left join customers_per_id
        on events_per_customer.customer_id = customers_per_id.customer_id
),

order_id_counts as (
    select coalesce(sum(copies - 1), 0) as duplicated_order_id
    from order_ids
),

order_item_counts as (
    select
        count(case when order_ids.order_id is null then 1 end) as unknown_order,
        count(
            case when not (order_items.quantity > 0 and order_items.unit_price >= 0) then 1 end
        ) as invalid_quantity_or_price
    from order_items
    left join order_ids
        on order_items.order_id = order_ids.order_id
),

product_ids as (
    select
        product_id,
        count(*) as copies
    from products
    where product_id is not null
    group by 1
),

product_counts as (
    select coalesce(sum(copies - 1), 0) as duplicated_product_id
    from product_ids
),

-- every customer_id in any input table, and those the spine left out (seen only later)
input_customers as (
    select customer_id from customers_per_id
    where customer_id is not null
    union
    select customer_id from orders_per_customer
    where customer_id is not null
    union
    select customer_id from events_per_customer
    where customer_id is not null
),

late_customer_counts as (
    select count(*) as late_customers
    from input_customers
    left join spine
        on input_customers.customer_id = spine.customer_id
    where spine.customer_id is null
),

-- one row per check (rows of unknown customers count only when customers has rows)
checks as (
    select
        'orders' as table_name,
        'order_id missing' as problem,
        'excluded' as handling,
        missing_order_id as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_id duplicated (extra copies)' as problem,
        'excluded' as handling,
        duplicated_order_id as rows_affected
    from order_id_counts
    union all
    select
        'orders' as table_name,
        'customer_id missing' as problem,
        'excluded' as handling,
        missing_customer_id as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'ordered_at missing or not a timestamp' as problem,
        'excluded' as handling,
        missing_ordered_at as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'ordered_at after the as-of time' as problem,
        'excluded' as handling,
        ordered_late as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'ordered_at in the future (after the build start + shop_future_tolerance_hours)'
            as problem,
        'excluded' as handling,
        ordered_in_future as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total missing or not a number' as problem,
        'excluded' as handling,
        missing_total as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total NaN or infinite' as problem,
        'excluded' as handling,
        not_finite_total as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total beyond shop_max_order_total' as problem,
        'excluded' as handling,
        out_of_range_total as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total negative' as problem,
        'excluded' as handling,
        negative_total as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'status word not in shop_status_map' as problem,
        'excluded' as handling,
        unmapped_status as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'status pending (not paid yet)' as problem,
        'excluded' as handling,
        pending_status as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'customer not in customers' as problem,
        'kept, customer created' as handling,
        case
            when customer_counts.registered_customers > 0
                then order_counts.unregistered_customer
            else 0
        end as rows_affected
    from order_counts
    cross join customer_counts
    union all
    select
        'customers' as table_name,
        'customer_id missing' as problem,
        'excluded' as handling,
        missing_customer_id as rows_affected
    from customer_counts
    union all
    select
        'customers' as table_name,
        'customer_id duplicated (extra copies)' as problem,
        'excluded, earliest sign-up kept' as handling,
        duplicated_customer_id as rows_affected
    from customer_counts
    union all
    select
        'customers' as table_name,
        'signup_at after the as-of time' as problem,
        'excluded' as handling,
        signed_up_late as rows_affected
    from customer_counts
    union all
    select
        'customers' as table_name,
        'income negative' as problem,
        'repaired, set to null' as handling,
        negative_income as rows_affected
    from customer_counts
    union all
    select
        'events' as table_name,
        'customer_id missing (anonymous)' as problem,
        'excluded' as handling,
        missing_customer_id as rows_affected
    from event_counts
    union all
    select
        'events' as table_name,
        'customer not in customers' as problem,
        'kept, customer created' as handling,
        case
            when customer_counts.registered_customers > 0
                then event_counts.unregistered_customer
            else 0
        end as rows_affected
    from event_counts
    cross join customer_counts
    union all
    select
        'events' as table_name,
        'occurred_at missing or not a timestamp' as problem,
        'excluded' as handling,
        missing_occurred_at as rows_affected
    from event_counts
    union all
    select
        'events' as table_name,
        'occurred_at after the as-of time' as problem,
        'excluded' as handling,
        occurred_late as rows_affected
    from event_counts
    union all
    select
        'events' as table_name,
        'occurred_at in the future (after the build start + shop_future_tolerance_hours)'
            as problem,
        'excluded' as handling,
        occurred_in_future as rows_affected
    from event_counts
    union all
    select
        'events' as table_name,
        'session_id missing' as problem,
        'repaired, sessions rebuilt from inactivity gaps' as handling,
        missing_session_id as rows_affected
    from event_counts
    union all
    select
        'order_items' as table_name,
        'order not in orders' as problem,
        'excluded' as handling,
        unknown_order as rows_affected
    from order_item_counts
    union all
    select
        'order_items' as table_name,
        'quantity not positive or unit_price negative' as problem,
        'excluded' as handling,
        invalid_quantity_or_price as rows_affected
    from order_item_counts
    union all
    select
        'all tables' as table_name,
        'customer seen only after the as-of time' as problem,
        'not segmented (counted per customer)' as handling,
        late_customers as rows_affected
    from late_customer_counts
    union all
    select
        'products' as table_name,
        'product_id duplicated (extra copies)' as problem,
        'excluded, first category kept' as handling,
        duplicated_product_id as rows_affected
    from product_counts
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
