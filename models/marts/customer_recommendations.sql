{#-
    What to offer each segmented customer next: the shop_recommendation_count categories the
    customer has not bought yet that most of the customer's segment bought (the segment's
    customer_share in segment_category_affinity), with the reason in plain words. The input
    events carry no product, so views and cart adds cannot point at a category here.
-#}
{%- set top_n = shop_var_number('shop_recommendation_count', minimum=1, whole=true) %}
with

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

affinity as (
    select * from {{ ref('shopseg', 'segment_category_affinity') }}
),

purchases as (
    select * from {{ ref('shopseg', 'int_affinity__customer_products') }}
),

bought as (
    select distinct
        customer_id,
        category
    from purchases
),

candidates as (
    select
        segments.customer_id,
        segments.segment_id,
        segments.segment_name,
        segments.run_id,
        affinity.category,
        affinity.customer_share,
        affinity.lift
    from segments
    inner join affinity
        on segments.segment_id = affinity.segment_id
    left join bought
        on
            segments.customer_id = bought.customer_id
            and affinity.category = bought.category
    where
        bought.customer_id is null
        and affinity.customers > 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id order by customer_share desc, lift desc, category asc
        ) as recommendation_rank
    from candidates
),

recommendations as (
    select
        customer_id,
        cast(recommendation_rank as {{ dbt.type_bigint() }}) as recommendation_rank,
        category,
        segment_id,
        segment_name,
        run_id,
        customer_share as score,
        lift,
        {{ dbt.concat([
            "'bought by '",
            "cast(cast(round(customer_share * 100) as " ~ dbt.type_bigint() ~ ") as "
                ~ dbt.type_string() ~ ")",
            "'% of '",
            "segment_name",
            "' (lift '",
            "cast(cast(lift as decimal(18, 1)) as " ~ dbt.type_string() ~ ")",
            "')'",
        ]) }} as reason
    from ranked
    where recommendation_rank <= {{ top_n }}
)

select * from recommendations
