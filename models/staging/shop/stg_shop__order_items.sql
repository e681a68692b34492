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
)

select * from renamed
