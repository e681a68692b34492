{#- Money: exact decimal with cents, the same on every warehouse. -#}
{% macro shop_type_money() %}{{ return(adapter.dispatch('shop_type_money', 'shopseg')()) }}{% endmacro %}
{% macro default__shop_type_money() %}{{ return('decimal(18, 2)') }}{% endmacro %}

{#- The input contract, one place: {table: {column: type}} for empty relations. -#}
{% macro shop_contract(table_name) %}
    {%- set s = dbt.type_string() -%}
    {%- set ts = dbt.type_timestamp() -%}
    {%- set f = dbt.type_float() -%}
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
