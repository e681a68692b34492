{#- The shop's top categories by completed revenue; rank n names category_share_<n>. -#}
with

items as (
    select * from {{ ref('shopseg', 'int_order_items__enriched') }}
),

revenue as (
    select
        category,
        sum(line_amount) as revenue
    from items
    group by 1
),

ranked as (
    select
        category,
        revenue,
        row_number() over (order by revenue desc, category asc) as category_rank
    from revenue
)

select * from ranked
where category_rank <= {{ shop_number('shop_top_category_count') }}
