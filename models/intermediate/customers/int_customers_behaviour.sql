{#- How the customer browses: sessions, views, searches, carts, conversion, recency of visits. -#}
with

sessions as (
    select * from {{ ref('shopseg', 'int_sessions') }}
),

events as (
    select * from {{ ref('shopseg', 'stg_shop__events') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

recent_events as (
    -- events of known customers in the 90 days up to as-of: all active days need
    select
        events.customer_id,
        events.occurred_at,
        events.occurred_at > {{ dbt.dateadd('day', -30, 'as_of.as_of_at') }} as is_last_30d
    from events
    cross join as_of
    where
        events.customer_id is not null
        and events.occurred_at > {{ dbt.dateadd('day', -90, 'as_of.as_of_at') }}
        and events.occurred_at <= as_of.as_of_at
),

active_days as (
    select
        customer_id,
        count(distinct case
            when is_last_30d then cast(occurred_at as date)
        end) as active_days_30d,
        count(distinct cast(occurred_at as date)) as active_days_90d
    from recent_events
    group by 1
),

per_customer as (
    select
        customer_id,
        count(*) as session_count,
        max(ended_at) as last_visit_at,
        cast(sum(event_count) as {{ dbt.type_bigint() }}) as event_count,
        avg(cast(duration_seconds as {{ shop_type_double() }})) as avg_session_duration_seconds,
        cast(sum(product_view_count) as {{ dbt.type_bigint() }}) as product_view_count,
        cast(sum(search_count) as {{ dbt.type_bigint() }}) as search_count,
        cast(sum(cart_add_count) as {{ dbt.type_bigint() }}) as cart_add_count,
        cast(sum(checkout_count) as {{ dbt.type_bigint() }}) as checkout_count,
        count(case when has_purchase then 1 end) as purchase_session_count,
        count(case when has_cart_add then 1 end) as cart_session_count,
        count(case when has_cart_add and not has_purchase then 1 end)
            as abandoned_cart_session_count
    from sessions
    group by 1
),

features as (
    select
        per_customer.customer_id,
        per_customer.session_count,
        cast(per_customer.event_count as {{ shop_type_double() }})
        / per_customer.session_count as events_per_session,
        per_customer.avg_session_duration_seconds,
        per_customer.product_view_count,
        per_customer.search_count,
        per_customer.cart_add_count,
        per_customer.checkout_count,
        cast(per_customer.purchase_session_count as {{ shop_type_double() }})
        / per_customer.session_count as browse_to_buy_conversion,
        case
            when per_customer.cart_session_count > 0
                then
                    cast(per_customer.abandoned_cart_session_count as {{ shop_type_double() }})
                    / per_customer.cart_session_count
        end as cart_abandonment_rate,
        per_customer.last_visit_at,
        {{ dbt.datediff('per_customer.last_visit_at', 'as_of.as_of_at', 'day') }}
            as days_since_last_visit,
        coalesce(active_days.active_days_30d, 0) as active_days_30d,
        coalesce(active_days.active_days_90d, 0) as active_days_90d
    from per_customer
    cross join as_of
    left join active_days
        on per_customer.customer_id = active_days.customer_id
)

select * from features
