{#- The var it_bumped_order_id multiplies that order's total by 100 (the lineage test). -#}
select
    id as order_id,
    customer_id,
    created_at as ordered_at,
    case
        when id = {{ var('it_bumped_order_id', -1) }}
            then cast(cast(total_price as double) * 100 as varchar)
        else total_price
    end as order_total,
    total_discounts as discount_amount,
    financial_status as status
from {{ source('shop', 'orders') }}
