{#- One row per session of a known customer, with what happened in it. -#}
with

events as (
    select * from {{ ref('shopseg', 'int_events__sessionised') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

per_session as (
    -- grouped by the numeric/short keys; the text key is built once per session below
    select
        customer_id,
        session_id,
        session_number,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        count(case when event_type = 'product_view' then 1 end) as product_view_count,
        count(case when event_type = 'search' then 1 end) as search_count,
        count(case when event_type = 'add_to_cart' then 1 end) as cart_add_count,
        count(case when event_type = 'checkout' then 1 end) as checkout_count,
        count(case when event_type = 'purchase' then 1 end) as purchase_event_count
    from events
    group by 1, 2, 3
),

sessions as (
    select
        customer_id,
        {{ shop_session_key('session_id', 'customer_id', 'session_number') }} as session_key,
        started_at,
        ended_at,
        event_count,
        product_view_count,
        search_count,
        cart_add_count,
        checkout_count,
        purchase_event_count
    from per_session
),

sessions_with_orders as (
    select
        sessions.customer_id,
        sessions.session_key,
        count(orders.order_id) as order_count
    from sessions
    inner join orders
        on
            sessions.customer_id = orders.customer_id
            and sessions.started_at <= orders.ordered_at
            and orders.ordered_at <= {{ dbt.dateadd(
                'minute', shop_number('shop_session_gap_minutes'), 'sessions.ended_at') }}
    group by 1, 2
),

final as (
    select
        sessions.*,
        cast(
            {{ dbt.datediff('sessions.started_at', 'sessions.ended_at', 'second') }}
            as {{ dbt.type_bigint() }}
        ) as duration_seconds,
        sessions.cart_add_count > 0 as has_cart_add,
        (
            sessions.purchase_event_count > 0
            or coalesce(sessions_with_orders.order_count, 0) > 0
        ) as has_purchase
    from sessions
    left join sessions_with_orders
        on
            sessions.customer_id = sessions_with_orders.customer_id
            and sessions.session_key = sessions_with_orders.session_key
)

select * from final
