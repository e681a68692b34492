{#-
    What kind of products the customer buys: categories, basket size, spend shares, how
    spread the spend is over categories and whether the customer buys the dear or the cheap
    end of each category.
-#}
{%- set top_n = shop_number('shop_top_category_count') -%}
with

items as (
    select * from {{ ref('shopseg', 'int_order_items__enriched') }}
),

top_categories as (
    select * from {{ ref('shopseg', 'int_shop__top_categories') }}
),

customer_categories as (
    select
        customer_id,
        category,
        sum(line_amount) as spend
    from items
    group by customer_id, category
),

category_prices as (
    -- the reference price of price_position_index: the median unit price of the
    -- category's order lines (each line once), on a fixed decimal scale so that the sums
    -- below add up exactly
    select
        category,
        cast(
            percentile_cont(0.5) within group (
                order by cast(line_amount as {{ shop_type_double() }}) / quantity
            ) as decimal(18, 4)
        ) as median_unit_price
    from items
    group by category
),

price_positions as (
    select
        items.customer_id,
        sum(items.line_amount) as paid,
        sum(items.quantity * category_prices.median_unit_price) as at_median_prices
    from items
    inner join category_prices
        on items.category = category_prices.category
    group by items.customer_id
),

favourites as (
    select
        customer_id,
        category as favourite_category,
        spend as favourite_spend,
        row_number() over (
            partition by customer_id order by spend desc, category asc
        ) as favourite_rank
    from customer_categories
),

per_customer as (
    select
        customer_id,
        count(distinct category) as distinct_categories,
        sum(quantity) as item_count,
        count(distinct order_id) as orders_with_items,
        sum(line_amount) as item_spend
    from items
    group by customer_id
),

entropies as (
    -- -sum(p ln p) over the customer's categories, p = the category's share of the spend;
    -- each term on a fixed decimal scale, so the sum does not depend on the row order
    select
        customer_categories.customer_id,
        sum(
            case
                when customer_categories.spend > 0
                    then cast(
                        -1 * (
                            cast(customer_categories.spend as {{ shop_type_double() }})
                            / cast(per_customer.item_spend as {{ shop_type_double() }})
                        )
                        * ln(
                            cast(customer_categories.spend as {{ shop_type_double() }})
                            / cast(per_customer.item_spend as {{ shop_type_double() }})
                        ) as {{ shop_exact_decimal() }}
                    )
                else 0
            end
        ) as entropy_nats
    from customer_categories
    inner join per_customer
        on customer_categories.customer_id = per_customer.customer_id
    where per_customer.item_spend > 0
    group by customer_categories.customer_id
),

shares as (
    select
        {% for n in range(1, top_n + 1) -%}
            sum(
                case when top_categories.category_rank = {{ n }} then customer_categories.spend end
            ) as spend_top_{{ n }},
        {% endfor -%}
        customer_categories.customer_id
    from customer_categories
    inner join top_categories
        on customer_categories.category = top_categories.category
    group by customer_categories.customer_id
),

features as (
    select
        per_customer.customer_id,
        per_customer.distinct_categories,
        favourites.favourite_category,
        case
            when per_customer.item_spend > 0
                then
                    cast(favourites.favourite_spend as {{ shop_type_double() }})
                    / cast(per_customer.item_spend as {{ shop_type_double() }})
        end as favourite_category_share,
        -- in bits: 0 = all spend in one category, log2(k) = spread evenly over k
        cast(entropies.entropy_nats as {{ shop_type_double() }})
        / ln(2) as category_spend_entropy,
        case
            when price_positions.at_median_prices > 0
                then
                    cast(price_positions.paid as {{ shop_type_double() }})
                    / cast(price_positions.at_median_prices as {{ shop_type_double() }})
        end as price_position_index,
        {% for n in range(1, top_n + 1) -%}
            case
                when per_customer.item_spend > 0
                    then
                        cast(coalesce(shares.spend_top_{{ n }}, 0) as {{ shop_type_double() }})
                        / per_customer.item_spend
            end as category_share_{{ n }},
        {% endfor -%}
        cast(per_customer.item_count as {{ shop_type_double() }})
        / per_customer.orders_with_items as items_per_order
    from per_customer
    left join favourites
        on
            per_customer.customer_id = favourites.customer_id
            and favourites.favourite_rank = 1
    left join shares
        on per_customer.customer_id = shares.customer_id
    left join entropies
        on per_customer.customer_id = entropies.customer_id
    left join price_positions
        on per_customer.customer_id = price_positions.customer_id
)

select * from features
