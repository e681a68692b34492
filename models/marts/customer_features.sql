{#- One model-ready row per customer seen anywhere, as of int_shop__as_of. -#}
{%- set top_n = shop_number('shop_top_category_count') -%}
with

spine as (
    select * from {{ ref('shopseg', 'int_customers_spine') }}
),

demographics as (
    select * from {{ ref('shopseg', 'int_customers_demographics') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_customers_orders') }}
),

products as (
    select * from {{ ref('shopseg', 'int_customers_products') }}
),

list_prices as (
    select * from {{ ref('shopseg', 'int_customers_list_prices') }}
),

loyalty as (
    select * from {{ ref('shopseg', 'int_customers_loyalty') }}
),

behaviour as (
    select * from {{ ref('shopseg', 'int_customers_behaviour') }}
),

habits as (
    select * from {{ ref('shopseg', 'int_customers_habits') }}
),

lifecycle as (
    select * from {{ ref('shopseg', 'int_customers_lifecycle') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

joined as (
    select
        spine.customer_id,
        as_of.as_of_at,
        spine.is_registered,
        -- demographic
        demographics.signup_at,
        cast(demographics.tenure_days as {{ dbt.type_bigint() }}) as tenure_days,
        demographics.age,
        coalesce(demographics.age_band, 'unknown') as age_band,
        coalesce(demographics.gender, 'unknown') as gender,
        coalesce(demographics.country, 'unknown') as country,
        demographics.income,
        coalesce(demographics.income_band, 'unknown') as income_band,
        coalesce(demographics.acquisition_channel, 'unknown') as acquisition_channel,
        -- purchase
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.cancelled_order_count, 0) as cancelled_order_count,
        coalesce(orders.returned_order_count, 0) as returned_order_count,
        -- a sum of money is decimal(38, 2) on DuckDB but decimal(28, 2) on Spark: one type
        cast(coalesce(orders.monetary, 0) as decimal(38, 2)) as monetary,
        orders.avg_order_value,
        orders.first_order_at,
        orders.last_order_at,
        cast(orders.recency_days as {{ dbt.type_bigint() }}) as recency_days,
        orders.avg_days_between_orders,
        orders.discounted_order_share,
        orders.discount_revenue_share,
        orders.return_rate,
        orders.cancel_rate,
        products.distinct_categories,
        products.favourite_category,
        products.items_per_order,
        {% for n in range(1, top_n + 1) -%}
            products.category_share_{{ n }},
        {% endfor -%}
        products.favourite_category_share,
        products.category_spend_entropy,
        -- from the lines' unit prices; from products.price where the lines have none
        coalesce(
            products.price_position_index, list_prices.list_price_position_index
        ) as price_position_index,
        loyalty.repeat_product_share,
        loyalty.top_brand_spend_share,
        -- behavioural
        coalesce(behaviour.session_count, 0) as session_count,
        behaviour.events_per_session,
        behaviour.avg_session_duration_seconds,
        coalesce(behaviour.product_view_count, 0) as product_view_count,
        coalesce(behaviour.search_count, 0) as search_count,
        coalesce(behaviour.cart_add_count, 0) as cart_add_count,
        coalesce(behaviour.checkout_count, 0) as checkout_count,
        behaviour.browse_to_buy_conversion,
        behaviour.cart_abandonment_rate,
        behaviour.last_visit_at,
        cast(behaviour.days_since_last_visit as {{ dbt.type_bigint() }}) as days_since_last_visit,
        coalesce(behaviour.active_days_30d, 0) as active_days_30d,
        coalesce(behaviour.active_days_90d, 0) as active_days_90d,
        -- shopping habits (shop time zone)
        habits.night_activity_share,
        habits.morning_activity_share,
        habits.afternoon_activity_share,
        habits.evening_activity_share,
        habits.weekend_activity_share,
        habits.search_session_share,
        habits.mobile_event_share,
        habits.top_device,
        -- purchase stage
        lifecycle.lifecycle_stage,
        lifecycle.recency_score,
        lifecycle.frequency_score,
        lifecycle.monetary_score,
        lifecycle.rfm_cell,
        lifecycle.rfm_segment
    from spine
    cross join as_of
    left join demographics
        on spine.customer_id = demographics.customer_id
    left join orders
        on spine.customer_id = orders.customer_id
    left join products
        on spine.customer_id = products.customer_id
    left join list_prices
        on spine.customer_id = list_prices.customer_id
    left join loyalty
        on spine.customer_id = loyalty.customer_id
    left join behaviour
        on spine.customer_id = behaviour.customer_id
    left join habits
        on spine.customer_id = habits.customer_id
    left join lifecycle
        on spine.customer_id = lifecycle.customer_id
)

select * from joined
