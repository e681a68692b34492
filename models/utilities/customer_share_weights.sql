{#- Each customer's weight, 1 / all customers: summed over a group, its share of all customers. -#}
{#- MetricFlow 0.213 has no share-of-total metric; segment_share (semantic layer) sums these. -#}
with

customers as (
    select
        customer_id,
        as_of_at
    from {{ ref('shopseg', 'customer_features') }}
),

weighted as (
    select
        customer_id,
        as_of_at,
        cast(1 as {{ dbt.type_float() }}) / count(*) over () as customer_weight
    from customers
)

select * from weighted
