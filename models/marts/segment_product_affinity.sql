{#-
    The products each segment buys most over the shop's rate: per segment of the current run,
    the top shop_affinity_top_products products by lift among those at least
    shop_affinity_min_product_customers of the segment's customers bought.
-#}
{%- set min_customers = shop_var_number(
    'shop_affinity_min_product_customers', minimum=1, whole=true
) %}
{%- set top_n = shop_var_number('shop_affinity_top_products', minimum=1, whole=true) %}
with

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

purchases as (
    select * from {{ ref('shopseg', 'int_affinity__customer_products') }}
    where product_id is not null
),

segment_sizes as (
    select
        run_id,
        segment_id,
        segment_name,
        count(*) as segment_customers
    from segments
    group by 1, 2, 3
),

population as (
    select count(*) as all_customers
    from segments
),

products as (
    select
        product_id,
        count(distinct customer_id) as product_customers
    from purchases
    group by 1
),

segment_products as (
    select
        segment_id,
        product_id,
        -- one category per product (int_order_items__enriched picks it)
        min(category) as category,
        count(distinct customer_id) as customers,
        sum(quantity) as quantity,
        sum(revenue) as revenue
    from purchases
    group by 1, 2
),

measured as (
    -- each ratio is one division of exact integers: the same double on every warehouse
    select
        segment_sizes.run_id,
        segment_sizes.segment_id,
        segment_sizes.segment_name,
        segment_products.product_id,
        segment_products.category,
        cast(segment_products.customers as {{ dbt.type_bigint() }}) as customers,
        cast(segment_products.quantity as {{ dbt.type_bigint() }}) as quantity,
        cast(segment_products.revenue as decimal(38, 2)) as revenue,
        cast(segment_products.customers as {{ shop_type_double() }})
        / segment_sizes.segment_customers as customer_share,
        cast(products.product_customers as {{ shop_type_double() }})
        / population.all_customers as overall_customer_share,
        cast(segment_products.customers as {{ shop_type_double() }}) * population.all_customers
        / (
            cast(segment_sizes.segment_customers as {{ shop_type_double() }})
            * products.product_customers
        ) as lift,
        (
            cast(segment_products.customers as {{ shop_type_double() }})
            * population.all_customers
            - cast(segment_sizes.segment_customers as {{ shop_type_double() }})
            * products.product_customers
        )
        / sqrt(
            cast(segment_sizes.segment_customers as {{ shop_type_double() }})
            * products.product_customers
            * population.all_customers
        ) as pearson_residual
    from segment_products
    inner join segment_sizes
        on segment_products.segment_id = segment_sizes.segment_id
    inner join products
        on segment_products.product_id = products.product_id
    cross join population
    where segment_products.customers >= {{ min_customers }}
),

ranked as (
    select
        *,
        cast(
            row_number() over (
                partition by segment_id order by lift desc, customers desc, product_id asc
            ) as {{ dbt.type_bigint() }}
        ) as affinity_rank
    from measured
)

select * from ranked
where affinity_rank <= {{ top_n }}
