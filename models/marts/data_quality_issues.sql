{#-
    One row per input check: how many rows of which table had which problem, and what
    shopseg did about it (excluded, repaired or kept). Every check is listed, with 0
    when the input is clean, so a dashboard can chart it over time.

    A check of one row is a flag computed once, where the row is first seen (staging for
    the row's own values, int_<table>__flagged for its date against the as-of time), and
    the cleaning models exclude or repair on that same flag: here it is only counted,
    `count(case when <flag> then 1 end) as <flag>`, so the count and the cleaning cannot
    disagree (tests/python/test_quality_flags.py checks this). Checks across rows
    (duplicates, references to unknown orders or customers, customers seen only later)
    are counted from the keys.

    Each input table feeds one aggregate (orders two: per customer and per order id) that
    counts all of its checks side by side, grouped by the key the cross-table checks join
    on; the per-table totals are then turned into one row per check.
-#}
with

orders as (
    select * from {{ ref('shopseg', 'int_orders__flagged') }}
),

customers as (
    select * from {{ ref('shopseg', 'int_customers__flagged') }}
),

events as (
    select * from {{ ref('shopseg', 'int_events__flagged') }}
),

order_items as (
    select * from {{ ref('shopseg', 'stg_shop__order_items') }}
),

products as (
    select * from {{ ref('shopseg', 'stg_shop__products') }}
),

spine as (
    select * from {{ ref('shopseg', 'int_customers_spine') }}
),

-- per customer_id (one null group for rows without one): copies and row checks
customers_per_id as (
    select
        customer_id,
        count(*) as copies,
        count(case when is_customer_id_missing then 1 end) as is_customer_id_missing_rows,
        count(case when is_signed_up_after_as_of then 1 end) as is_signed_up_after_as_of_rows,
        count(case when is_income_negative then 1 end) as is_income_negative_rows,
        count(case when is_consent_unreadable then 1 end) as is_consent_unreadable_rows
    from customers
    group by 1
),

-- per customer_id of the order rows (null group included): the row checks of orders
orders_per_customer as (
    select
        customer_id,
        count(*) as order_rows,
        count(case when is_order_id_missing then 1 end) as is_order_id_missing_rows,
        count(case when is_customer_id_missing then 1 end) as is_customer_id_missing_rows,
        count(case when is_ordered_at_missing then 1 end) as is_ordered_at_missing_rows,
        count(case when is_ordered_after_as_of then 1 end) as is_ordered_after_as_of_rows,
        count(case when is_ordered_in_future then 1 end) as is_ordered_in_future_rows,
        count(case when is_total_missing then 1 end) as is_total_missing_rows,
        count(case when is_total_not_finite then 1 end) as is_total_not_finite_rows,
        count(case when is_total_beyond_max then 1 end) as is_total_beyond_max_rows,
        count(case when is_total_negative then 1 end) as is_total_negative_rows,
        count(case when is_status_unmapped then 1 end) as is_status_unmapped_rows,
        count(case when is_status_pending then 1 end) as is_status_pending_rows
    from orders
    group by 1
),

-- per order_id: copies, for duplicates and for order items of unknown orders
order_ids as (
    select
        order_id,
        count(*) as copies
    from orders
    where not is_order_id_missing
    group by 1
),

-- per customer_id of the events (null group: anonymous events): the row checks of events
events_per_customer as (
    select
        customer_id,
        count(*) as event_rows,
        count(case when is_customer_id_missing then 1 end) as is_customer_id_missing_rows,
        count(case when is_occurred_at_missing then 1 end) as is_occurred_at_missing_rows,
        count(case when is_occurred_after_as_of then 1 end) as is_occurred_after_as_of_rows,
        count(case when is_occurred_in_future then 1 end) as is_occurred_in_future_rows,
        count(case when is_session_id_missing then 1 end) as is_session_id_missing_rows
    from events
    group by 1
),

customer_counts as (
    select
        coalesce(sum(is_customer_id_missing_rows), 0) as is_customer_id_missing_rows,
        coalesce(sum(case when customer_id is not null then copies - 1 end), 0)
            as duplicated_customer_id,
        coalesce(sum(is_signed_up_after_as_of_rows), 0) as is_signed_up_after_as_of_rows,
        coalesce(sum(is_income_negative_rows), 0) as is_income_negative_rows,
        coalesce(sum(is_consent_unreadable_rows), 0) as is_consent_unreadable_rows,
        count(customer_id) as registered_customers
    from customers_per_id
),

-- customers_per_id holds each registered customer_id once, and its null group joins nothing
order_counts as (
    select
        coalesce(sum(orders_per_customer.is_order_id_missing_rows), 0) as is_order_id_missing_rows,
        coalesce(sum(orders_per_customer.is_customer_id_missing_rows), 0)
            as is_customer_id_missing_rows,
        coalesce(sum(orders_per_customer.is_ordered_at_missing_rows), 0)
            as is_ordered_at_missing_rows,
        coalesce(sum(orders_per_customer.is_ordered_after_as_of_rows), 0)
            as is_ordered_after_as_of_rows,
        coalesce(sum(orders_per_customer.is_ordered_in_future_rows), 0)
            as is_ordered_in_future_rows,
        coalesce(sum(orders_per_customer.is_total_missing_rows), 0) as is_total_missing_rows,
        coalesce(sum(orders_per_customer.is_total_not_finite_rows), 0) as is_total_not_finite_rows,
        coalesce(sum(orders_per_customer.is_total_beyond_max_rows), 0) as is_total_beyond_max_rows,
        coalesce(sum(orders_per_customer.is_total_negative_rows), 0) as is_total_negative_rows,
        coalesce(sum(orders_per_customer.is_status_unmapped_rows), 0) as is_status_unmapped_rows,
        coalesce(sum(orders_per_customer.is_status_pending_rows), 0) as is_status_pending_rows,
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
        coalesce(sum(events_per_customer.is_customer_id_missing_rows), 0)
            as is_customer_id_missing_rows,
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
        coalesce(sum(events_per_customer.is_occurred_at_missing_rows), 0)
            as is_occurred_at_missing_rows,
        coalesce(sum(events_per_customer.is_occurred_after_as_of_rows), 0)
            as is_occurred_after_as_of_rows,
        coalesce(sum(events_per_customer.is_occurred_in_future_rows), 0)
            as is_occurred_in_future_rows,
        coalesce(sum(events_per_customer.is_session_id_missing_rows), 0)
            as is_session_id_missing_rows
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
        count(case when order_items.is_quantity_or_price_invalid then 1 end)
            as is_quantity_or_price_invalid_rows
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
        is_order_id_missing_rows as rows_affected
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
        is_customer_id_missing_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'ordered_at missing or not a timestamp' as problem,
        'excluded' as handling,
        is_ordered_at_missing_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'ordered_at after the as-of time' as problem,
        'excluded' as handling,
        is_ordered_after_as_of_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'ordered_at in the future (after the build start + shop_future_tolerance_hours)'
            as problem,
        'excluded' as handling,
        is_ordered_in_future_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total missing or not a number' as problem,
        'excluded' as handling,
        is_total_missing_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total NaN or infinite' as problem,
        'excluded' as handling,
        is_total_not_finite_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total beyond shop_max_order_total' as problem,
        'excluded' as handling,
        is_total_beyond_max_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'order_total negative' as problem,
        'excluded' as handling,
        is_total_negative_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'status word not in shop_status_map' as problem,
        'excluded' as handling,
        is_status_unmapped_rows as rows_affected
    from order_counts
    union all
    select
        'orders' as table_name,
        'status pending (not paid yet)' as problem,
        'excluded' as handling,
        is_status_pending_rows as rows_affected
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
        is_customer_id_missing_rows as rows_affected
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
        is_signed_up_after_as_of_rows as rows_affected
    from customer_counts
    union all
    select
        'customers' as table_name,
        'income negative' as problem,
        'repaired, set to null' as handling,
        is_income_negative_rows as rows_affected
    from customer_counts
    union all
    select
        'customers' as table_name,
        'accepts_marketing not a yes or no word' as problem,
        'repaired, read as unknown consent (not exported)' as handling,
        is_consent_unreadable_rows as rows_affected
    from customer_counts
    union all
    select
        'events' as table_name,
        'customer_id missing (anonymous)' as problem,
        'excluded' as handling,
        is_customer_id_missing_rows as rows_affected
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
        is_occurred_at_missing_rows as rows_affected
    from event_counts
    union all
    select
        'events' as table_name,
        'occurred_at after the as-of time' as problem,
        'excluded' as handling,
        is_occurred_after_as_of_rows as rows_affected
    from event_counts
    union all
    select
        'events' as table_name,
        'occurred_at in the future (after the build start + shop_future_tolerance_hours)'
            as problem,
        'excluded' as handling,
        is_occurred_in_future_rows as rows_affected
    from event_counts
    union all
    select
        'events' as table_name,
        'session_id missing' as problem,
        'repaired, sessions rebuilt from inactivity gaps' as handling,
        is_session_id_missing_rows as rows_affected
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
        is_quantity_or_price_invalid_rows as rows_affected
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
