{#- Who the customer is: age, gender, country, income, tenure, channel. -#}
with

customers as (
    select * from {{ ref('shopseg', 'int_customers__flagged') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

ranked as (
    -- a customer listed twice keeps the earliest sign-up
    select
        customers.*,
        row_number() over (
            partition by customers.customer_id
            -- nulls last spelled out: Spark sorts them first (DuckDB, PostgreSQL last)
            -- then every attribute, so that the copy kept never depends on row order
            order by
                customers.signup_at nulls last,
                customers.birth_year nulls last,
                customers.country nulls last,
                customers.gender_raw nulls last,
                customers.income nulls last,
                customers.acquisition_channel nulls last
        ) as customer_rank
    from customers
    where not customers.is_customer_id_missing
),

normalised as (
    select
        ranked.customer_id,
        ranked.signup_at,
        cast(extract(year from as_of.as_of_at) as {{ dbt.type_int() }})
        - ranked.birth_year as age_raw,
        case
            when ranked.gender_raw in ('f', 'female', 'woman', 'w', 'girl', 'feminine')
                then 'female'
            when ranked.gender_raw in ('m', 'male', 'man', 'boy', 'masculine')
                then 'male'
            when
                ranked.gender_raw in (
                    'non-binary', 'nonbinary', 'non binary', 'nb', 'x', 'diverse', 'other'
                )
                then 'other'
            else 'unknown'
        end as gender,
        coalesce(ranked.country, 'unknown') as country,
        case when not ranked.is_income_negative then ranked.income end as income,
        coalesce(ranked.acquisition_channel, 'unknown') as acquisition_channel,
        case
            when not ranked.is_signed_up_after_as_of
                then {{ dbt.datediff('ranked.signup_at', 'as_of.as_of_at', 'day') }}
        end as tenure_days
    from ranked
    cross join as_of
    where ranked.customer_rank = 1
),

demographics as (
    select
        customer_id,
        signup_at,
        case
            when
                age_raw between {{ shop_number('shop_min_age') }}
                and {{ shop_number('shop_max_age') }} then age_raw
        end as age,
        gender,
        country,
        income,
        acquisition_channel,
        tenure_days
    from normalised
),

banded as (
    select
        *,
        case
            when age is null then 'unknown'
            when age < 25 then '18-24'
            when age < 35 then '25-34'
            when age < 45 then '35-44'
            when age < 55 then '45-54'
            when age < 65 then '55-64'
            else '65+'
        end as age_band,
        case
            when income is null then 'unknown'
            when income < {{ shop_number('shop_income_band_low') }} then 'low'
            when income < {{ shop_number('shop_income_band_high') }} then 'middle'
            else 'high'
        end as income_band
    from demographics
)

select * from banded
