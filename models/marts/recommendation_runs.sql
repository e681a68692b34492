{#-
    How well customer_recommendations would have done: score as of
    shop_recommendation_backtest_days before the as-of time from the purchases before then
    (int_affinity__category_scores, moment backtest: the same score as customer_recommendations),
    and check which categories each customer bought for the first time after it. Three
    recommenders on the same customers and candidates: the score, the segment's best sellers
    alone and the shop's best sellers (popularity). Evaluated are the customers who had
    bought before the cut-off: one whose first purchase came after it had nothing to be
    recommended from then (on the demo most had not even signed up), and the segment they are
    in now was assigned from those very purchases; they are counted, not scored. Segments are
    the current ones: a segment assigned at the cut-off would need the stored model scored on
    features as of then.
-#}
{%- set top_n = shop_var_number('shop_recommendation_count', minimum=1, whole=true) %}
{%- set days = shop_var_number('shop_recommendation_backtest_days', minimum=1, whole=true) %}
{%- set double = shop_type_double() %}
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

scores as (
    select * from {{ ref('shopseg', 'int_affinity__category_scores') }}
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

history_customers as (
    select distinct customer_id
    from history
),

first_time_customers as (
    -- bought after the cut-off and never before it: not evaluated
    select count(distinct dated.customer_id) as customers
    from dated
    left join history_customers
        on dated.customer_id = history_customers.customer_id
    where history_customers.customer_id is null
),

new_purchases as (
    -- categories a customer who had bought before the cut-off bought after it for the first time
    select distinct
        dated.customer_id,
        dated.category
    from dated
    inner join history_customers
        on dated.customer_id = history_customers.customer_id
    left join history
        on
            dated.customer_id = history.customer_id
            and dated.category = history.category
    where
        not dated.is_before_cutoff
        and history.customer_id is null
),

evaluated as (
    select distinct customer_id
    from new_purchases
),

picks as (
    select
        scores.customer_id,
        scores.category,
        scores.recommendation_rank <= {{ top_n }} as is_recommended,
        scores.segment_rank <= {{ top_n }} as is_segment_pick,
        scores.popularity_rank <= {{ top_n }} as is_popularity_pick,
        new_purchases.customer_id is not null as is_bought
    from scores
    inner join evaluated
        on scores.customer_id = evaluated.customer_id
    left join new_purchases
        on
            scores.customer_id = new_purchases.customer_id
            and scores.category = new_purchases.category
    where scores.moment = 'backtest'
),

hits as (
    select
        customer_id,
        max(case when is_recommended and is_bought then 1 else 0 end) as is_hit,
        max(case when is_segment_pick and is_bought then 1 else 0 end) as is_segment_hit,
        max(case when is_popularity_pick and is_bought then 1 else 0 end) as is_popularity_hit
    from picks
    group by 1
),

counts as (
    select
        (select count(*) from evaluated) as evaluated_customers,
        (select customers from first_time_customers) as first_time_customers,
        (select count(distinct category) from history) as categories,
        (select sum(is_hit) from hits) as hits,
        (select sum(is_segment_hit) from hits) as segment_hits,
        (select sum(is_popularity_hit) from hits) as popularity_hits,
        (
            select count(distinct case when is_recommended then category end) from picks
        ) as recommended_categories,
        (
            select count(distinct case when is_segment_pick then category end) from picks
        ) as segment_categories,
        (
            select count(distinct case when is_popularity_pick then category end) from picks
        ) as popularity_categories
),

summary as (
    select
        cutoff.as_of_at,
        cutoff.cutoff_at,
        cast({{ days }} as {{ dbt.type_bigint() }}) as backtest_days,
        cast({{ top_n }} as {{ dbt.type_bigint() }}) as recommendation_count,
        cast(
            {{ shop_var_number('shop_recommendation_segment_weight', minimum=0) }}
            as {{ double }}
        ) as segment_weight,
        cast(
            {{ shop_var_number('shop_recommendation_also_bought_weight', minimum=0) }}
            as {{ double }}
        ) as also_bought_weight,
        cast(
            {{ shop_var_number('shop_recommendation_popularity_weight', minimum=0) }}
            as {{ double }}
        ) as popularity_weight,
        cast(counts.evaluated_customers as {{ dbt.type_bigint() }}) as evaluated_customers,
        cast(counts.first_time_customers as {{ dbt.type_bigint() }}) as first_time_customers,
        case
            when counts.evaluated_customers > 0
                then cast(coalesce(counts.hits, 0) as {{ double }}) / counts.evaluated_customers
        end as hit_rate,
        case
            when counts.evaluated_customers > 0
                then
                    cast(coalesce(counts.segment_hits, 0) as {{ double }})
                    / counts.evaluated_customers
        end as segment_hit_rate,
        case
            when counts.evaluated_customers > 0
                then
                    cast(coalesce(counts.popularity_hits, 0) as {{ double }})
                    / counts.evaluated_customers
        end as popularity_hit_rate,
        case
            when counts.evaluated_customers > 0
                then
                    cast(
                        coalesce(counts.hits, 0) - coalesce(counts.popularity_hits, 0)
                        as {{ double }}
                    )
                    / counts.evaluated_customers
        end as hit_rate_gain,
        case
            when counts.categories > 0
                then cast(counts.recommended_categories as {{ double }}) / counts.categories
        end as category_coverage,
        case
            when counts.categories > 0
                then cast(counts.segment_categories as {{ double }}) / counts.categories
        end as segment_category_coverage,
        case
            when counts.categories > 0
                then cast(counts.popularity_categories as {{ double }}) / counts.categories
        end as popularity_category_coverage
    from cutoff
    cross join counts
)

select * from summary
