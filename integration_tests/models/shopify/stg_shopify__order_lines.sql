select
    order_id,
    product_id,
    quantity,
    price as unit_price
from {{ source('shop', 'order_lines') }}
