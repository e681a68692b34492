{#- Lines of valid completed orders with their category and line amount. -#}
with

items as (
    select * from {{ ref('shopseg', 'stg_shop__order_items') }}
),

products as (
    select * from {{ ref('shopseg', 'stg_shop__products') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

product_categories as (
    -- a product listed twice keeps its first category alphabetically
    select
        product_id,
        min(category) as category
    from products
    where product_id is not null
    group by 1
),

enriched as (
    select
        orders.customer_id,
        items.order_id,
        items.product_id,
        coalesce(product_categories.category, 'unknown') as category,
        items.quantity,
        items.quantity * items.unit_price as line_amount
    from items
    inner join orders
        on items.order_id = orders.order_id
    left join product_categories
        on items.product_id = product_categories.product_id
    where
        orders.is_completed
        and not items.is_quantity_or_price_invalid
        and not items.is_quantity_or_price_missing
)

select * from enriched
