with

source as (
    select * from {{ shop_source('customers') }}
),

renamed as (
    select
        {{ shop_clean_id('customer_id') }} as customer_id,
        {{ shop_safe_cast('signup_at', dbt.type_timestamp()) }} as signup_at,
        {{ shop_safe_cast('birth_year', dbt.type_int()) }} as birth_year,
        nullif(lower(trim(cast(gender as {{ dbt.type_string() }}))), '') as gender_raw,
        nullif(upper(trim(cast(country as {{ dbt.type_string() }}))), '') as country,
        {{ shop_safe_cast('income', shop_type_double()) }} as income,
        nullif(
            lower(trim(cast(acquisition_channel as {{ dbt.type_string() }}))), ''
        ) as acquisition_channel
    from source
)

select * from renamed
