{#-
    What each segment buys more (or less) than the shop: one row per segment of the current
    run and category bought by any segmented customer. The shares count customers (bought
    the category at least once in a completed order), so one heavy buyer does not make a
    segment's affinity; the Pearson residual says whether the difference is more than chance.
-#}
{%- set min_customers = shop_var_number('shop_affinity_min_customers', minimum=1, whole=true) %}
{%- set min_residual = shop_var_number('shop_affinity_min_residual', minimum=0) %}
with

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

purchases as (
    select * from {{ ref('shopseg', 'int_affinity__customer_products') }}
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

segment_revenue as (
    select
        segment_id,
        sum(revenue) as segment_revenue
    from purchases
    group by 1
),

categories as (
    select
        category,
        count(distinct customer_id) as category_customers
    from purchases
    group by 1
),

segment_categories as (
    select
        segment_id,
        category,
        count(distinct customer_id) as customers,
        sum(revenue) as revenue
    from purchases
    group by 1, 2
),

counted as (
    select
        segment_sizes.run_id,
        segment_sizes.segment_id,
        segment_sizes.segment_name,
        categories.category,
        segment_sizes.segment_customers,
        categories.category_customers,
        population.all_customers,
        segment_revenue.segment_revenue,
        coalesce(segment_categories.customers, 0) as customers,
        coalesce(segment_categories.revenue, 0) as revenue
    from segment_sizes
    cross join categories
    cross join population
    left join segment_revenue
        on segment_sizes.segment_id = segment_revenue.segment_id
    left join segment_categories
        on
            segment_sizes.segment_id = segment_categories.segment_id
            and categories.category = segment_categories.category
),

measured as (
    -- each ratio is one division of exact integers: the same double on every warehouse
    select
        run_id,
        segment_id,
        segment_name,
        category,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(segment_customers as {{ dbt.type_bigint() }}) as segment_customers,
        cast(revenue as decimal(38, 2)) as revenue,
        case
            when segment_revenue > 0
                then
                    cast(revenue as {{ shop_type_double() }})
                    / cast(segment_revenue as {{ shop_type_double() }})
        end as revenue_share,
        cast(customers as {{ shop_type_double() }}) / segment_customers as customer_share,
        cast(category_customers as {{ shop_type_double() }})
        / all_customers as overall_customer_share,
        cast(customers as {{ shop_type_double() }}) * all_customers
        / (cast(segment_customers as {{ shop_type_double() }}) * category_customers) as lift,
        -- (observed - expected) / sqrt(expected), expected = segment size * overall share
        (
            cast(customers as {{ shop_type_double() }}) * all_customers
            - cast(segment_customers as {{ shop_type_double() }}) * category_customers
        )
        / sqrt(
            cast(segment_customers as {{ shop_type_double() }})
            * category_customers
            * all_customers
        ) as pearson_residual
    from counted
),

ranked as (
    select
        *,
        abs(pearson_residual) > {{ min_residual }}
        and customers >= {{ min_customers }} as is_notable,
        cast(
            row_number() over (
                partition by segment_id order by lift desc, customers desc, category asc
            ) as {{ dbt.type_bigint() }}
        ) as affinity_rank
    from measured
)

select * from ranked
