{#-
    Loyalty to products and brands, over the completed order lines of
    int_order_items__enriched: the share of the lines of the customer's later orders that
    buy a product again, and the share of the branded spend on the customer's top brand
    (products.brand, optional: null for everyone when absent).
-#}
with

items as (
    select * from {{ ref('shopseg', 'int_order_items__enriched') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

products as (
    select * from {{ ref('shopseg', 'stg_shop__products') }}
),

product_brands as (
    -- a product listed twice keeps its first brand alphabetically (as its category)
    select
        product_id,
        min(brand) as brand
    from products
    where product_id is not null
    group by product_id
),

lines as (
    -- one row per (order, product): a product on two lines of one order is bought once
    select distinct
        items.customer_id,
        items.order_id,
        items.product_id,
        orders.ordered_at
    from items
    inner join orders
        on items.order_id = orders.order_id
),

first_purchases as (
    select
        customer_id,
        product_id,
        min(ordered_at) as first_bought_at
    from lines
    group by customer_id, product_id
),

first_orders as (
    select
        customer_id,
        min(ordered_at) as first_ordered_at
    from lines
    group by customer_id
),

repeats as (
    -- lines of orders placed after the customer's first order with items (lines of the
    -- first order cannot repeat anything); a repeat bought the product in an earlier order
    select
        lines.customer_id,
        count(*) as later_line_count,
        count(case when first_purchases.first_bought_at < lines.ordered_at then 1 end)
            as repeat_line_count
    from lines
    inner join first_orders
        on lines.customer_id = first_orders.customer_id
    inner join first_purchases
        on
            lines.customer_id = first_purchases.customer_id
            and lines.product_id = first_purchases.product_id
    where lines.ordered_at > first_orders.first_ordered_at
    group by lines.customer_id
),

brand_spend as (
    select
        items.customer_id,
        product_brands.brand,
        sum(items.line_amount) as spend
    from items
    inner join product_brands
        on items.product_id = product_brands.product_id
    where product_brands.brand is not null
    group by items.customer_id, product_brands.brand
),

brands as (
    select
        customer_id,
        sum(spend) as branded_spend,
        max(spend) as top_brand_spend
    from brand_spend
    group by customer_id
),

customers as (
    select distinct customer_id
    from items
),

features as (
    select
        customers.customer_id,
        case
            when repeats.later_line_count > 0
                then
                    cast(repeats.repeat_line_count as {{ shop_type_double() }})
                    / repeats.later_line_count
        end as repeat_product_share,
        case
            when brands.branded_spend > 0
                then
                    cast(brands.top_brand_spend as {{ shop_type_double() }})
                    / cast(brands.branded_spend as {{ shop_type_double() }})
        end as top_brand_spend_share
    from customers
    left join repeats
        on customers.customer_id = repeats.customer_id
    left join brands
        on customers.customer_id = brands.customer_id
)

select * from features
