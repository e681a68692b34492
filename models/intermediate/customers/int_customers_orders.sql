{#- What the customer buys: RFM, order timing, discounts, returns and cancellations. -#}
with

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

completed_ranked as (
    select
        customer_id,
        ordered_at,
        row_number() over (
            partition by customer_id order by ordered_at desc, order_id desc
        ) as recency_rank
    from orders
    where is_completed
),

previous_orders as (
    select
        customer_id,
        max(ordered_at) as previous_order_at
    from completed_ranked
    where recency_rank = 2
    group by 1
),

per_customer as (
    select
        customer_id,
        count(*) as total_order_count,
        count(case when is_completed then 1 end) as order_count,
        count(case when is_cancelled then 1 end) as cancelled_order_count,
        count(case when is_returned then 1 end) as returned_order_count,
        sum(case when is_completed then order_total else 0 end) as monetary,
        sum(case when is_completed then discount_amount else 0 end) as discount_total,
        count(case when is_completed and has_discount then 1 end) as discounted_order_count,
        min(case when is_completed then ordered_at end) as first_order_at,
        max(case when is_completed then ordered_at end) as last_order_at
    from orders
    group by 1
),

features as (
    select
        per_customer.customer_id,
        per_customer.order_count,
        per_customer.cancelled_order_count,
        per_customer.returned_order_count,
        per_customer.monetary,
        case
            when per_customer.order_count > 0
                then
                    cast(per_customer.monetary as {{ shop_type_double() }})
                    / per_customer.order_count
        end as avg_order_value,
        per_customer.first_order_at,
        per_customer.last_order_at,
        previous_orders.previous_order_at,
        {{ dbt.datediff('per_customer.last_order_at', 'as_of.as_of_at', 'day') }}
            as recency_days,
        case
            when per_customer.order_count > 1
                then
                    cast(
                        {{ dbt.datediff(
                            'per_customer.first_order_at', 'per_customer.last_order_at', 'day'
                        ) }} as {{ shop_type_double() }}
                    )
                    / (per_customer.order_count - 1)
        end as avg_days_between_orders,
        case
            when per_customer.order_count > 0
                then
                    cast(per_customer.discounted_order_count as {{ shop_type_double() }})
                    / per_customer.order_count
        end as discounted_order_share,
        case
            when per_customer.monetary + per_customer.discount_total > 0
                then
                    cast(per_customer.discount_total as {{ shop_type_double() }})
                    / (per_customer.monetary + per_customer.discount_total)
        end as discount_revenue_share,
        case
            when per_customer.order_count + per_customer.returned_order_count > 0
                then
                    cast(per_customer.returned_order_count as {{ shop_type_double() }})
                    / (per_customer.order_count + per_customer.returned_order_count)
        end as return_rate,
        cast(per_customer.cancelled_order_count as {{ shop_type_double() }})
        / per_customer.total_order_count as cancel_rate
    from per_customer
    cross join as_of
    left join previous_orders
        on per_customer.customer_id = previous_orders.customer_id
)

select * from features
