{#- A validated timestamp literal from a var: vars never reach SQL unchecked. -#}
{% macro shop_timestamp_literal(value, var_name='shop_as_of') %}
    {%- set text = value | string | trim -%}
    {%- set pattern = '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$' -%}
    {%- if not modules.re.match(pattern, text) -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var " ~ var_name ~ " = '" ~ text ~ "' is not a date or timestamp "
            ~ "(expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)") }}
    {%- endif -%}
    {#- a real calendar time: 2025-02-30 is refused, not passed on to the warehouse -#}
    {%- set parts = modules.re.split('[-T :.]', text) -%}
    {%- set fields = (parts + ['0', '0', '0'])[:6] | map('int') | list -%}
    {%- set valid = fields[1] >= 1 and fields[1] <= 12 and fields[3] <= 23 and fields[4] <= 59
        and fields[5] <= 59 -%}
    {%- if valid -%}
        {%- set month_days = [31, 29 if (fields[0] % 4 == 0 and (fields[0] % 100 != 0
            or fields[0] % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
        {%- set valid = fields[2] >= 1 and fields[2] <= month_days[fields[1] - 1] -%}
    {%- endif -%}
    {%- if not valid -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var " ~ var_name ~ " = '" ~ text ~ "' is not a calendar date or time") }}
    {%- endif -%}
    {{ return("cast('" ~ text | replace('T', ' ') ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}

{#- A validated non-negative number from a var (`default` when the var is not set). -#}
{% macro shop_number(var_name, default=none) %}
    {%- set value = var(var_name) if default is none else var(var_name, default) -%}
    {%- if value is not number or value < 0 -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var " ~ var_name ~ " = '" ~ value ~ "' must be a non-negative number") }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}
