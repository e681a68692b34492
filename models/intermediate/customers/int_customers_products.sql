{#- What kind of products the customer buys: categories, basket size, spend shares. -#}
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

favourites as (
    select
        customer_id,
        category as favourite_category,
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
)

select * from features
