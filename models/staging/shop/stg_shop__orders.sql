{#-
    Totals beyond +-shop_max_order_total (default 1e9, at most 1e15 so that cents fit the
    money type) are taken for data errors: null here, counted in data_quality_issues.
-#}
{%- set max_total = shop_number('shop_max_order_total', 1000000000) -%}
{%- if max_total > 1e15 -%}
    {{ exceptions.raise_compiler_error(
        "shopseg: var shop_max_order_total = " ~ max_total ~ " must be at most 1e15") }}
{%- endif -%}
{%- set source_relation = shop_source('orders', required=true) -%}
{%- do shop_check_status_words(source_relation, 'orders') -%}
with

source as (
    select * from {{ source_relation }}
),

renamed as (
    select
        {{ shop_clean_id('order_id') }} as order_id,
        {{ shop_clean_id('customer_id') }} as customer_id,
        {{ shop_safe_cast('ordered_at', dbt.type_timestamp()) }} as ordered_at,
        {{ shop_safe_cast('order_total', shop_type_double()) }} as order_total_raw,
        {{ shop_safe_cast('discount_amount', shop_type_double()) }} as discount_amount_raw,
        {{ shop_status_word_sql('status') }} as status_word,
        {{ shop_status_class_sql('status') }} as status
    from source
),

typed as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_total_raw,
        case
            when order_total_raw between -{{ max_total }} and {{ max_total }}
                then {{ shop_cast_money('order_total_raw') }}
        end as order_total,
        case
            when discount_amount_raw between -1e15 and 1e15
                then {{ shop_cast_money('discount_amount_raw') }}
        end as discount_amount,
        status_word,
        status
    from renamed
),

-- the row checks, each a flag computed here once: int_orders__flagged adds those that
-- need the as-of time, int_orders__cleaned excludes on them, data_quality_issues counts them
flagged as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_total,
        discount_amount,
        status_word,
        status,
        order_id is null as is_order_id_missing,
        customer_id is null as is_customer_id_missing,
        ordered_at is null as is_ordered_at_missing,
        order_total_raw is null as is_total_missing,
        -- NaN sorts above every number (DuckDB and PostgreSQL), infinities beyond 1e308
        coalesce(order_total_raw not between -1e308 and 1e308, false) as is_total_not_finite,
        coalesce(
            order_total_raw between -1e308 and 1e308
            and order_total_raw not between -{{ max_total }} and {{ max_total }},
            false
        ) as is_total_beyond_max,
        coalesce(order_total < 0, false) as is_total_negative,
        status = 'pending' as is_status_pending,
        status = 'unmapped' as is_status_unmapped
    from typed
)

select * from flagged
