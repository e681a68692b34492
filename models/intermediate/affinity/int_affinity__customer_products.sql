{#- What each segmented customer bought: one row per customer and product of completed orders. -#}
with

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

items as (
    select * from {{ ref('shopseg', 'int_order_items__enriched') }}
),

purchases as (
    select
        segments.segment_id,
        items.customer_id,
        items.product_id,
        items.category,
        sum(items.quantity) as quantity,
        sum(items.line_amount) as revenue
    from items
    inner join segments
        on items.customer_id = segments.customer_id
    group by
        segments.segment_id,
        items.customer_id,
        items.product_id,
        items.category
)

select * from purchases
