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
        ) as acquisition_channel,
        -- consent as true / false / null (unknown): booleans, 1/0, yes/no, t/f in any case;
        -- another word is flagged below and read as unknown by customer_segments
        nullif(
            lower(trim(cast(accepts_marketing as {{ dbt.type_string() }}))), ''
        ) as consent_word,
        case
            when
                lower(trim(cast(accepts_marketing as {{ dbt.type_string() }})))
                in ('true', 't', 'yes', 'y', '1', '1.0')
                then true
            when
                lower(trim(cast(accepts_marketing as {{ dbt.type_string() }})))
                in ('false', 'f', 'no', 'n', '0', '0.0')
                then false
        end as accepts_marketing,
        -- only the hash leaves staging: no model, table or mart keeps the address itself
        {{ shop_sha256(shop_normalised_email('email')) }} as email_sha256
    from source
),

-- the row checks, each a flag computed once: data_quality_issues counts them
flagged as (
    select
        *,
        customer_id is null as is_customer_id_missing,
        -- repaired (set to null) in int_customers_demographics
        coalesce(income < 0, false) as is_income_negative,
        -- a consent word that is no yes or no: unknown consent (customer_segments)
        coalesce(consent_word is not null and accepts_marketing is null, false)
            as is_consent_unreadable
    from renamed
)

select * from flagged
