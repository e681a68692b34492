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
        {{ shop_safe_cast('occurred_at', dbt.type_timestamp()) }} as occurred_at,
        nullif(lower(trim(cast(device as {{ dbt.type_string() }}))), '') as device
    from source
),

-- the row checks, each a flag computed once: int_events__flagged adds those that need
-- the as-of time, data_quality_issues counts them
flagged as (
    select
        *,
        customer_id is null as is_customer_id_missing,
        occurred_at is null as is_occurred_at_missing,
        -- of a known customer's event (an anonymous one is excluded, not repaired)
        session_id is null and customer_id is not null as is_session_id_missing
    from renamed
)

select * from flagged
