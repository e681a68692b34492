{#-
    The single point in time all features are computed at (one row): the var
    shop_as_of when set (a backtest), else the latest order or event in the input.
-#}
{%- set as_of = var('shop_as_of', none) -%}
with

orders as (
    select ordered_at from {{ ref('shopseg', 'stg_shop__orders') }}
),

events as (
    select occurred_at from {{ ref('shopseg', 'stg_shop__events') }}
),

latest as (
    select max(ordered_at) as latest_at from orders
    union all
    select max(occurred_at) as latest_at from events
),

as_of as (
    select
        {% if as_of -%}
            min({{ shop_timestamp_literal(as_of) }})
        {%- else -%}
            max(latest_at)
        {%- endif %} as as_of_at
    from latest
)

select * from as_of
