select
    id as product_id,
    product_type as category
from {{ source('shop', 'products') }}
