{#- Products only matter with order items, so they follow `shop_using_order_items`. -#}
with

source as (
    {% if var('shop_using_order_items', true) %}
        select * from {{ shop_source('products') }}
    {% else %}
        select * from {{ shop_empty_relation('products') }}
    {% endif %}
),

renamed as (
    select
        {{ shop_clean_id('product_id') }} as product_id,
        coalesce(
            nullif(lower(trim(cast(category as {{ dbt.type_string() }}))), ''), 'unknown'
        ) as category,
        nullif(lower(trim(cast(brand as {{ dbt.type_string() }}))), '') as brand,
        {{ shop_cast_money(shop_safe_cast('price', shop_type_double())) }} as price
    from source
)

select * from renamed
