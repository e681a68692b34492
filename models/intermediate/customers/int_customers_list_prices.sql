{#-
    The price position from list prices (products.price, optional): what the customer's
    units of completed orders list at / what the same units list at the median list price
    of their category. customer_features uses it as price_position_index where the
    customer's order lines have no unit price (int_customers_products has none then).
    Lines count here whether or not their unit_price is known; null for everyone without
    products.price.
-#}
with

items as (
    select * from {{ ref('shopseg', 'stg_shop__order_items') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

products as (
    select * from {{ ref('shopseg', 'stg_shop__products') }}
),

product_prices as (
    -- a product listed twice keeps its first category alphabetically (as
    -- int_order_items__enriched) and its lowest list price above 0
    select
        product_id,
        min(category) as category,
        min(case when price > 0 then price end) as list_price
    from products
    where product_id is not null
    group by product_id
),

listed_lines as (
    -- the completed order lines with a quantity, nothing invalid (data_quality_issues)
    -- and a listed product
    select
        orders.customer_id,
        product_prices.category,
        items.quantity,
        product_prices.list_price
    from items
    inner join orders
        on items.order_id = orders.order_id
    inner join product_prices
        on items.product_id = product_prices.product_id
    where
        orders.is_completed
        and items.quantity > 0
        and not items.is_quantity_or_price_invalid
        and product_prices.list_price is not null
),

category_prices as (
    -- the median list price of the category's order lines (each line once), on a fixed
    -- decimal scale so that the sums below add up exactly
    select
        category,
        cast(
            percentile_cont(0.5) within group (
                order by cast(list_price as {{ shop_type_double() }})
            ) as decimal(18, 4)
        ) as median_list_price
    from listed_lines
    group by category
),

positions as (
    select
        listed_lines.customer_id,
        sum(listed_lines.quantity * listed_lines.list_price) as listed,
        sum(listed_lines.quantity * category_prices.median_list_price) as at_median_prices
    from listed_lines
    inner join category_prices
        on listed_lines.category = category_prices.category
    group by listed_lines.customer_id
),

features as (
    select
        customer_id,
        case
            when at_median_prices > 0
                then
                    cast(listed as {{ shop_type_double() }})
                    / cast(at_median_prices as {{ shop_type_double() }})
        end as list_price_position_index
    from positions
)

select * from features
