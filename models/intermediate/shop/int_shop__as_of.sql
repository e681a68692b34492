{#-
    The single point in time all features are computed at (one row): the var
    shop_as_of when set (a backtest), else the latest order or event in the input that is
    not dated after the build's start plus shop_future_tolerance_hours (future_cutoff_at):
    a row dated in the future (2999-01-01, a clock error) never sets the as-of time, and
    is excluded and counted in data_quality_issues.
-#}
{%- set as_of = var('shop_as_of', none) -%}
{%- set tolerance_hours = shop_number('shop_future_tolerance_hours', 24) -%}
{%- set cutoff = run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
{%- if as_of -%}
    {%- do shop_timestamp_literal(as_of) -%}
    {%- set as_of_text = (as_of | string | trim | replace('T', ' ') ~ ' 00:00:00')[:19] -%}
    {%- if as_of_text > cutoff -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_as_of = '" ~ as_of ~ "' is after the build's start ("
            ~ cutoff ~ " UTC): features are computed as of a time that has happened") }}
    {%- endif -%}
{%- endif -%}
with

orders as (
    select ordered_at from {{ ref('shopseg', 'stg_shop__orders') }}
),

events as (
    select occurred_at from {{ ref('shopseg', 'stg_shop__events') }}
),

cutoff as (
    select
        {{ dbt.dateadd(
            'hour', tolerance_hours | int, shop_timestamp_literal(cutoff, 'run_started_at')
        ) }} as future_cutoff_at
),

latest as (
    select max(orders.ordered_at) as latest_at
    from orders
    cross join cutoff
    where orders.ordered_at <= cutoff.future_cutoff_at
    union all
    select max(events.occurred_at) as latest_at
    from events
    cross join cutoff
    where events.occurred_at <= cutoff.future_cutoff_at
),

as_of as (
    select
        {% if as_of -%}
            min({{ shop_timestamp_literal(as_of) }})
        {%- else -%}
            max(latest.latest_at)
        {%- endif %} as as_of_at,
        min(cutoff.future_cutoff_at) as future_cutoff_at
    from latest
    cross join cutoff
)

select * from as_of
