{#-
    Where the customer stands in the purchase journey, by var-driven rules checked in
    this order (first match wins):
      prospect     no completed order
      new          first completed order at most shop_new_customer_days before as-of
      reactivated  last order within shop_active_days, after a gap over shop_lapsed_days
      loyal        at least shop_loyal_min_orders orders, last within shop_active_days
      active       last order within shop_active_days
      at_risk      last order within shop_lapsed_days
      lapsed       otherwise
    plus RFM scores 1-5 among buyers (5 = most recent / most frequent / highest spend;
    ties share the highest score of their group) and the classic RFM segment from the rfm_segments seed.
-#}
with

spine as (
    select * from {{ ref('shopseg', 'int_customers_spine') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_customers_orders') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

rfm_segments as (
    select * from {{ shop_lookup('rfm_segments') }}
),

buyers as (
    select
        orders.customer_id,
        orders.recency_days,
        orders.order_count,
        orders.monetary,
        {{ dbt.datediff('orders.first_order_at', 'as_of.as_of_at', 'day') }}
            as days_since_first_order,
        {{ dbt.datediff('orders.previous_order_at', 'orders.last_order_at', 'day') }}
            as days_between_last_two_orders
    from orders
    cross join as_of
    where orders.order_count > 0
),

scored as (
    select
        *,
        {{ shop_score_1_to_5('recency_days', descending=true) }} as recency_score,
        {{ shop_score_1_to_5('order_count') }} as frequency_score,
        {{ shop_score_1_to_5('monetary') }} as monetary_score
    from buyers
),

staged as (
    select
        spine.customer_id,
        case
            when scored.customer_id is null then 'prospect'
            when scored.days_since_first_order <= {{ shop_number('shop_new_customer_days') }}
                then 'new'
            when
                scored.recency_days <= {{ shop_number('shop_active_days') }}
                and scored.days_between_last_two_orders > {{ shop_number('shop_lapsed_days') }}
                then 'reactivated'
            when
                scored.recency_days <= {{ shop_number('shop_active_days') }}
                and scored.order_count >= {{ shop_number('shop_loyal_min_orders') }}
                then 'loyal'
            when scored.recency_days <= {{ shop_number('shop_active_days') }} then 'active'
            when scored.recency_days <= {{ shop_number('shop_lapsed_days') }} then 'at_risk'
            else 'lapsed'
        end as lifecycle_stage,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        cast(
            floor((scored.frequency_score + scored.monetary_score + 1) / 2.0)
            as {{ dbt.type_int() }}
        ) as frequency_monetary_score
    from spine
    left join scored
        on spine.customer_id = scored.customer_id
),

final as (
    select
        staged.customer_id,
        staged.lifecycle_stage,
        staged.recency_score,
        staged.frequency_score,
        staged.monetary_score,
        case
            when staged.recency_score is not null
                then
                    cast(staged.recency_score as {{ dbt.type_string() }})
                    || cast(staged.frequency_score as {{ dbt.type_string() }})
                    || cast(staged.monetary_score as {{ dbt.type_string() }})
        end as rfm_cell,
        case
            when staged.recency_score is null then 'No purchase'
            else coalesce(rfm_segments.rfm_segment, 'Unmapped RFM cell')
        end as rfm_segment
    from staged
    left join rfm_segments
        on
            staged.recency_score = rfm_segments.recency_score
            and staged.frequency_monetary_score = rfm_segments.frequency_monetary_score
)

select * from final
