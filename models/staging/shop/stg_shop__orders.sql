with

source as (
    select * from {{ shop_source('orders', shop_contract('orders'), required=true) }}
),

renamed as (
    select
        {{ shop_clean_id('order_id') }} as order_id,
        {{ shop_clean_id('customer_id') }} as customer_id,
        {{ dbt.safe_cast('ordered_at', dbt.type_timestamp()) }} as ordered_at,
        {{ dbt.safe_cast('order_total', shop_type_double()) }} as order_total_raw,
        {{ dbt.safe_cast('discount_amount', shop_type_double()) }} as discount_amount_raw,
        coalesce(lower(trim(cast(status as {{ dbt.type_string() }}))), 'completed') as status
    from source
),

typed as (
    select
        order_id,
        customer_id,
        ordered_at,
        case
            when order_total_raw between -1e15 and 1e15
                then {{ shop_cast_money('order_total_raw') }}
        end as order_total,
        case
            when discount_amount_raw between -1e15 and 1e15
                then {{ shop_cast_money('discount_amount_raw') }}
        end as discount_amount,
        status,
        order_total_raw is not null
        and order_total_raw not between -1e15 and 1e15 as is_total_out_of_range
    from renamed
)

select * from typed
