{#- The numeric customer_features columns that segment profiles describe. -#}
{% macro shop_profile_features() %}
    {%- set features = [
        'tenure_days', 'age', 'income',
        'order_count', 'cancelled_order_count', 'returned_order_count', 'monetary',
        'avg_order_value', 'recency_days', 'avg_days_between_orders',
        'discounted_order_share', 'discount_revenue_share', 'return_rate', 'cancel_rate',
        'distinct_categories', 'items_per_order',
        'session_count', 'events_per_session', 'avg_session_duration_seconds',
        'product_view_count', 'search_count', 'cart_add_count', 'checkout_count',
        'browse_to_buy_conversion', 'cart_abandonment_rate', 'days_since_last_visit',
        'active_days_30d', 'active_days_90d',
    ] -%}
    {%- for n in range(1, shop_number('shop_top_category_count') + 1) -%}
        {%- do features.append('category_share_' ~ n) -%}
    {%- endfor -%}
    {{ return(features) }}
{% endmacro %}
