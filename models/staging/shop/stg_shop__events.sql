with

source as (
    select * from {{ shop_source('events') }}
),

renamed as (
    select
        {{ shop_clean_id('event_id') }} as event_id,
        {{ shop_clean_id('customer_id') }} as customer_id,
        {{ shop_clean_id('session_id') }} as session_id,
        lower(trim(cast(event_type as {{ dbt.type_string() }}))) as event_type,
        {{ shop_safe_cast('occurred_at', dbt.type_timestamp()) }} as occurred_at
    from source
)

select * from renamed
