{#- Money: exact decimal with cents, the same on every warehouse. -#}
{% macro shop_type_money() %}{{ return(adapter.dispatch('shop_type_money', 'shopseg')()) }}{% endmacro %}
{% macro default__shop_type_money() %}{{ return('decimal(18, 2)') }}{% endmacro %}

{#-
    A float amount as money, rounded to cents from its shortest decimal text: 1.005 is 1.01
    everywhere. A direct cast rounds the binary value (1.00499...): 1.00 on DuckDB, while
    Postgres rounds its 15-digit text, 1.01.
-#}
{% macro shop_cast_money(column) -%}
    cast(cast({{ column }} as {{ dbt.type_string() }}) as {{ shop_type_money() }})
{%- endmacro %}

{#-
    A 64-bit float for measurements and ratios. dbt.type_float() is `float`: 64-bit on
    Postgres, but 32-bit on DuckDB (1234567.89 becomes 1234567.875).
-#}
{% macro shop_type_double() %}{{ return(adapter.dispatch('shop_type_double', 'shopseg')()) }}{% endmacro %}
{% macro default__shop_type_double() %}{{ return(dbt.type_float()) }}{% endmacro %}
{% macro duckdb__shop_type_double() %}{{ return('double') }}{% endmacro %}

{#- The input contract, one place: {table: {column: type}} for empty relations. -#}
{% macro shop_contract(table_name) %}
    {%- set s = dbt.type_string() -%}
    {%- set ts = dbt.type_timestamp() -%}
    {%- set f = shop_type_double() -%}
    {%- set i = dbt.type_int() -%}
    {%- set contract = {
        'orders': {'order_id': s, 'customer_id': s, 'ordered_at': ts, 'order_total': f,
                   'discount_amount': f, 'status': s},
        'customers': {'customer_id': s, 'signup_at': ts, 'birth_year': i, 'gender': s,
                      'country': s, 'income': f, 'acquisition_channel': s},
        'order_items': {'order_id': s, 'product_id': s, 'quantity': i, 'unit_price': f},
        'products': {'product_id': s, 'category': s},
        'events': {'event_id': s, 'customer_id': s, 'session_id': s, 'event_type': s,
                   'occurred_at': ts},
    } -%}
    {{ return(contract[table_name]) }}
{% endmacro %}

{#- A source cell as text, trimmed, empty strings as null: ids are text everywhere. -#}
{% macro shop_clean_id(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}
