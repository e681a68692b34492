select
    id as customer_id,
    created_at as signup_at,
    year_of_birth as birth_year,
    sex as gender,
    country_code as country,
    yearly_income as income,
    first_touch_channel as acquisition_channel
from {{ source('shop', 'customers') }}
