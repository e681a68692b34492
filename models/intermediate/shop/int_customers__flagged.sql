{#-
    Every customer row of stg_shop__customers with its check against the as-of time: a
    sign-up after it does not put the customer in int_customers_spine and has no tenure.
    data_quality_issues counts each flag.
-#}
with

customers as (
    select * from {{ ref('shopseg', 'stg_shop__customers') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

flagged as (
    select
        customers.*,
        coalesce(customers.signup_at > as_of.as_of_at, false) as is_signed_up_after_as_of
    from customers
    cross join as_of
)

select * from flagged
