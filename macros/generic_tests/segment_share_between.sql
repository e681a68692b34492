{#-
    Fails for every segment whose share of rows is outside [min_share, max_share].
    Shares default to the vars shop_min_segment_share / shop_max_segment_share.
-#}
{% test segment_share_between(model, column_name, min_share=none, max_share=none) %}
{%- set low = min_share if min_share is not none
    else shop_var_number('shop_min_segment_share') -%}
{%- set high = max_share if max_share is not none
    else shop_var_number('shop_max_segment_share') -%}

with

sizes as (
    select
        {{ column_name }} as segment,
        count(*) as customers
    from {{ model }}
    group by 1
),

shares as (
    select
        segment,
        customers,
        1.0 * customers / sum(customers) over () as share
    from sizes
)

select *
from shares
where share < {{ low }} or share > {{ high }}
{% endtest %}
