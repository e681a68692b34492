{#-
    How well customer_recommendations would have done: recommend as of
    shop_recommendation_backtest_days before the as-of time from the purchases before then,
    and check which categories each customer bought for the first time after it. Two
    recommenders are compared on the same customers: the segment's best sellers (what
    customer_recommendations does) and the shop's best sellers (popularity). Segments are
    the current ones: a segment assigned at the cut-off would need the stored model scored
    on features as of then.
-#}
{%- set top_n = shop_var_number('shop_recommendation_count', minimum=1, whole=true) %}
{%- set days = shop_var_number('shop_recommendation_backtest_days', minimum=1, whole=true) %}
with

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

items as (
    select * from {{ ref('shopseg', 'int_order_items__enriched') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

cutoff as (
    select
        as_of_at,
        {{ dbt.dateadd('day', -1 * days, 'as_of_at') }} as cutoff_at
    from as_of
),

dated as (
    select
        items.customer_id,
        items.category,
        orders.ordered_at < cutoff.cutoff_at as is_before_cutoff
    from items
    inner join orders
        on items.order_id = orders.order_id
    inner join segments
        on items.customer_id = segments.customer_id
    cross join cutoff
),

history as (
    select distinct
        customer_id,
        category
    from dated
    where is_before_cutoff
),

new_purchases as (
    -- categories a customer bought after the cut-off and never before it
    select distinct
        dated.customer_id,
        dated.category
    from dated
    left join history
        on
            dated.customer_id = history.customer_id
            and dated.category = history.category
    where
        not dated.is_before_cutoff
        and history.customer_id is null
),

evaluated as (
    select distinct
        new_purchases.customer_id,
        segments.segment_id
    from new_purchases
    inner join segments
        on new_purchases.customer_id = segments.customer_id
),

segment_sellers as (
    select
        segments.segment_id,
        history.category,
        count(*) as buyers
    from history
    inner join segments
        on history.customer_id = segments.customer_id
    group by 1, 2
),

shop_sellers as (
    select
        category,
        count(*) as buyers
    from history
    group by 1
),

segment_picks as (
    select
        evaluated.customer_id,
        segment_sellers.category,
        row_number() over (
            partition by evaluated.customer_id
            order by segment_sellers.buyers desc, segment_sellers.category asc
        ) as pick_rank
    from evaluated
    inner join segment_sellers
        on evaluated.segment_id = segment_sellers.segment_id
    left join history
        on
            evaluated.customer_id = history.customer_id
            and segment_sellers.category = history.category
    where history.customer_id is null
),

shop_picks as (
    select
        evaluated.customer_id,
        shop_sellers.category,
        row_number() over (
            partition by evaluated.customer_id
            order by shop_sellers.buyers desc, shop_sellers.category asc
        ) as pick_rank
    from evaluated
    cross join shop_sellers
    left join history
        on
            evaluated.customer_id = history.customer_id
            and shop_sellers.category = history.category
    where history.customer_id is null
),

picks as (
    select
        'segment' as recommender,
        customer_id,
        category
    from segment_picks
    where pick_rank <= {{ top_n }}
    union all
    select
        'popularity' as recommender,
        customer_id,
        category
    from shop_picks
    where pick_rank <= {{ top_n }}
),

hits as (
    select
        picks.recommender,
        picks.customer_id,
        max(case when new_purchases.customer_id is not null then 1 else 0 end) as is_hit
    from picks
    left join new_purchases
        on
            picks.customer_id = new_purchases.customer_id
            and picks.category = new_purchases.category
    group by 1, 2
),

scores as (
    select
        (select count(*) from evaluated) as evaluated_customers,
        (select count(*) from shop_sellers) as categories,
        sum(case when recommender = 'segment' then is_hit else 0 end) as segment_hits,
        sum(case when recommender = 'popularity' then is_hit else 0 end) as popularity_hits
    from hits
),

coverage as (
    select
        count(distinct case when recommender = 'segment' then category end)
            as segment_categories,
        count(distinct case when recommender = 'popularity' then category end)
            as popularity_categories
    from picks
),

summary as (
    select
        cutoff.as_of_at,
        cutoff.cutoff_at,
        cast({{ days }} as {{ dbt.type_bigint() }}) as backtest_days,
        cast({{ top_n }} as {{ dbt.type_bigint() }}) as recommendation_count,
        cast(scores.evaluated_customers as {{ dbt.type_bigint() }}) as evaluated_customers,
        case
            when scores.evaluated_customers > 0
                then
                    cast(scores.segment_hits as {{ shop_type_double() }})
                    / scores.evaluated_customers
        end as hit_rate,
        case
            when scores.evaluated_customers > 0
                then
                    cast(scores.popularity_hits as {{ shop_type_double() }})
                    / scores.evaluated_customers
        end as popularity_hit_rate,
        case
            when scores.evaluated_customers > 0
                then
                    cast(scores.segment_hits - scores.popularity_hits as {{ shop_type_double() }})
                    / scores.evaluated_customers
        end as hit_rate_gain,
        case
            when scores.categories > 0
                then
                    cast(coverage.segment_categories as {{ shop_type_double() }})
                    / scores.categories
        end as category_coverage,
        case
            when scores.categories > 0
                then
                    cast(coverage.popularity_categories as {{ shop_type_double() }})
                    / scores.categories
        end as popularity_category_coverage
    from cutoff
    cross join scores
    cross join coverage
)

select * from summary
