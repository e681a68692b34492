{#- One row per day, for MetricFlow (mf query) to join metrics over time; portable SQL. -#}
{#- Bounded: 2000-01-01 to 2040-12-31 (about 15,000 rows); widen if the shop's dates leave it. -#}
{%- set first_day = "cast('2000-01-01' as date)" -%}
{%- set day_after_last = "cast('2041-01-01' as date)" -%}
with

days as (
    {{ dbt.date_spine('day', first_day, day_after_last) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
