{#-
    The lower-case hex SHA-256 of a text expression's UTF-8 bytes: what ad platforms'
    customer-match uploads expect of a normalised email. DuckDB has sha256(text),
    PostgreSQL sha256(bytea), Spark and Snowflake sha2(text, 256), BigQuery sha256 of bytes.
-#}
{% macro shop_sha256(expression) -%}
    {{ return(adapter.dispatch('shop_sha256', 'shopseg')(expression)) }}
{%- endmacro %}
{% macro default__shop_sha256(expression) -%}
    sha256({{ expression }})
{%- endmacro %}
{% macro postgres__shop_sha256(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}
{% macro spark__shop_sha256(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}
{% macro snowflake__shop_sha256(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}
{% macro bigquery__shop_sha256(expression) -%}
    to_hex(sha256({{ expression }}))
{%- endmacro %}

{#-
    An email as ad platforms match it: trimmed of spaces, lower-cased, empty as null. The
    library's shopseg.export.normalise_email is the same rule, so tests compare with hashlib.
-#}
{% macro shop_normalised_email(column) -%}
    nullif(lower(trim(cast({{ column }} as {{ dbt.type_string() }}))), '')
{%- endmacro %}

{#-
    The integer (0 to 16^digits - 1) of the first `digits` characters of a lower-case hex
    text, in plain SQL every warehouse runs: each digit's place in '0123456789abcdef'. No
    warehouse-specific conversion (DuckDB's '0x' casts, PostgreSQL's bit strings, Spark's
    conv) is needed, and eight digits stay far below bigint's range.
-#}
{% macro shop_hex_prefix_to_bigint(column, digits=8) -%}
    (
    {%- for i in range(digits) %}
        {{ '+ ' if not loop.first }}cast({{ dbt.position(
            'substring(' ~ column ~ ', ' ~ (i + 1) ~ ', 1)', "'0123456789abcdef'"
        ) }} - 1 as {{ dbt.type_bigint() }}) * {{ 16 ** (digits - 1 - i) }}
    {%- endfor %}
    )
{%- endmacro %}

{#-
    The holdout (control) group: md5(shop_holdout_salt || customer_id) is the customer's
    holdout hash; the customer is held out when the integer u in [0, 2^32) of its first 8
    hex digits is below ceil(shop_holdout_share * 2^32). The flag depends on the id and the
    two vars only, so it is the same in every build, retrain, thread count, row order and
    warehouse; the library's shopseg.export.holdout_flags computes the same rule in Python.
    The salt is restricted to characters that need no quoting in any SQL dialect. Two
    macros, so that a model computes the hash once (a CTE) and compares its digits.
-#}
{% macro shop_holdout_hash(customer_id) -%}
    {%- set salt = var('shop_holdout_salt', 'shopseg') | string -%}
    {%- if not modules.re.match('^[A-Za-z0-9_.:-]+$', salt) -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_holdout_salt = '" ~ salt ~ "' must be a non-empty text of "
            ~ "letters, digits and _ . : -") }}
    {%- endif -%}
    {{ dbt.hash(dbt.concat(["'" ~ salt ~ "'", customer_id])) }}
{%- endmacro %}
{% macro shop_is_holdout(holdout_hash) -%}
    {%- set share = shop_var_number('shop_holdout_share', 0.10, minimum=0, maximum=1) -%}
    {%- set threshold = (share * 4294967296) | round(0, 'ceil') | int -%}
    {{ shop_hex_prefix_to_bigint(holdout_hash) }} < {{ threshold }}
{%- endmacro %}
