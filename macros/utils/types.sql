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
{% macro spark__shop_type_double() %}{{ return('double') }}{% endmacro %}

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

{#-
    The contract's columns that must be present in an input table; the others may be
    absent and are read as null. (Present columns may still hold nulls, see the README.)
-#}
{% macro shop_required_columns(table_name) %}
    {%- set required = {
        'orders': ['order_id', 'customer_id', 'ordered_at', 'order_total'],
        'customers': ['customer_id'],
        'order_items': ['order_id', 'product_id', 'quantity', 'unit_price'],
        'products': ['product_id'],
        'events': ['customer_id', 'event_type', 'occurred_at'],
    } -%}
    {{ return(required[table_name]) }}
{% endmacro %}

{#- What a contract type holds: 'number', 'timestamp' or 'text' (ids and labels). -#}
{% macro shop_contract_kind(contract_type) %}
    {%- if contract_type == dbt.type_timestamp() -%}
        {{ return('timestamp') }}
    {%- elif contract_type in [dbt.type_int(), shop_type_double()] -%}
        {{ return('number') }}
    {%- endif -%}
    {{ return('text') }}
{% endmacro %}

{#-
    A cast that gives null where the value does not convert ('abc' as a number), so bad
    cells are counted in data_quality_issues instead of failing the build. dbt.safe_cast
    is a plain cast on DuckDB and PostgreSQL; DuckDB has try_cast. PostgreSQL (no try_cast)
    reads typed warehouse tables, where the cast cannot fail.
-#}
{% macro shop_safe_cast(column, data_type) -%}
    {{ return(adapter.dispatch('shop_safe_cast', 'shopseg')(column, data_type)) }}
{%- endmacro %}
{% macro default__shop_safe_cast(column, data_type) -%}
    {{ return(dbt.safe_cast(column, data_type)) }}
{%- endmacro %}
{% macro duckdb__shop_safe_cast(column, data_type) -%}
    {{ return('try_cast(' ~ column ~ ' as ' ~ data_type ~ ')') }}
{%- endmacro %}
{#- Spark has try_cast too: null instead of an error whether ANSI mode is on or off. -#}
{% macro spark__shop_safe_cast(column, data_type) -%}
    {{ return('try_cast(' ~ column ~ ' as ' ~ data_type ~ ')') }}
{%- endmacro %}

{#-
    A double rounded to `digits` decimals. Parallel aggregation adds floats in any order, so
    the last bits of a sum or mean can differ between two runs on the same data; published
    figures are rounded so that the same input gives byte-identical tables.
-#}
{% macro shop_round(expression, digits=9) %}
    {{- return(adapter.dispatch('shop_round', 'shopseg')(expression, digits)) -}}
{% endmacro %}
{% macro default__shop_round(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}
{% macro postgres__shop_round(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}
