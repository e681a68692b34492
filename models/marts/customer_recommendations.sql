{#-
    What to offer each segmented customer next: the shop_recommendation_count categories the
    customer has not bought yet with the highest score of int_affinity__category_scores as
    of the as-of time (the segment's share, the share of the buyers of the customer's own
    categories, the shop's share, weighted by the vars shop_recommendation_*_weight), with
    the reason in plain words. recommendation_runs backtests the same score.
-#}
{%- set top_n = shop_var_number('shop_recommendation_count', minimum=1, whole=true) %}
with

scores as (
    select * from {{ ref('shopseg', 'int_affinity__category_scores') }}
),

recommendations as (
    select
        customer_id,
        recommendation_rank,
        category,
        segment_id,
        segment_name,
        run_id,
        score,
        segment_share,
        lift,
        also_bought_share,
        shop_share,
        reason
    from scores
    where
        moment = 'current'
        and recommendation_rank <= {{ top_n }}
)

select * from recommendations
