with

source as (
    select * from {{ shop_source('order_items') }}
),

renamed as (
    select
        {{ shop_clean_id('order_id') }} as order_id,
        {{ shop_clean_id('product_id') }} as product_id,
        {{ shop_safe_cast('quantity', dbt.type_int()) }} as quantity,
        {{ shop_cast_money(shop_safe_cast('unit_price', shop_type_double())) }} as unit_price
    from source
),

-- the row checks, each a flag computed once: int_order_items__enriched excludes on them,
-- data_quality_issues counts is_quantity_or_price_invalid
flagged as (
    select
        *,
        coalesce(quantity <= 0 or unit_price < 0, false) as is_quantity_or_price_invalid,
        -- a missing value with nothing invalid beside it (excluded, not counted)
        (quantity is null and coalesce(unit_price >= 0, true))
        or (unit_price is null and coalesce(quantity > 0, true)) as is_quantity_or_price_missing
    from renamed
)

select * from flagged
